// A gateway's broker account on the real broker, over its TLS listener: it publishes for its own
// inverters only, reads only their confirmations from ingest, no two gateways can claim one serial,
// and a removed gateway cannot connect.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAs, env, waitFor, watchTopics } from '../../testing/services';
import { readMqttConfig } from '../config';
import { BrokerAdmin } from '../mqtt/broker-admin';
import {
  gatewayRole,
  gatewayUsername,
  provisionGateway,
  provisionGateways,
  removeGateway,
  removeGateways,
  updateGatewayRoles,
} from '../mqtt/gateway-accounts';
import { storedTopic } from '../telemetry/contract';

let admin: BrokerAdmin;
beforeAll(async () => {
  admin = await BrokerAdmin.connect(readMqttConfig(env, 'ADMIN'));
});
afterAll(async () => {
  await admin.close();
});

const overTls = (username: string, password: string) => connectAs(username, password, { tls: true });
/** The topics a gateway's role lets it publish to, as the broker holds them. */
const topicsOf = async (id: string) => {
  const answer = await admin.run({ command: 'getRole', rolename: gatewayRole(id) });
  if (answer.error) return answer.error;
  const acls = (answer.data as { role: { acls?: { acltype: string; topic: string }[] } }).role.acls ?? [];
  return acls
    .filter((a) => a.acltype === 'publishClientSend')
    .map((a) => a.topic)
    .sort();
};

describe('gateway accounts (real broker, TLS listener)', () => {
  it("publish for the gateway's inverters only; a serial has one gateway; removed = refused", async () => {
    const id = `t${process.pid}`;
    const [mine, alsoMine, other] = [`GWA${process.pid}`, `GWB${process.pid}`, `GWC${process.pid}`];
    const password = (await provisionGateway(admin, id, [mine, alsoMine]))!;
    expect(password).toMatch(/^[\w-]{32}$/);
    expect(await provisionGateway(admin, id, [mine, alsoMine])).toBeNull(); // unchanged, not re-keyed
    await expect(provisionGateway(admin, `u${process.pid}`, [alsoMine])).rejects.toThrow(
      new RegExp(`${alsoMine} \\(gateway ${id}\\) already belongs to another gateway`),
    );
    const watcher = await watchTopics();
    const { seen } = watcher;

    const gateway = await overTls(gatewayUsername(id), password);
    if (typeof gateway === 'string') throw new Error(gateway);
    // Ingest's confirmations: its own inverters' only (before the refused publish below, which ends the connection).
    expect((await gateway.subscribeAsync(storedTopic(mine), { qos: 1 }))[0]!.qos).toBe(1);
    await expect(gateway.subscribeAsync(storedTopic(other), { qos: 1 })).rejects.toThrow(/Subscribe error/);
    await gateway.publishAsync(`solar/v1/${mine}/telemetry`, '[]', { qos: 1 });
    await gateway.publishAsync(`solar/v1/${alsoMine}/telemetry`, '[]', { qos: 1 });
    await gateway.publishAsync(`solar/v1/${other}/telemetry`, '[]', { qos: 1 }).catch(() => undefined);
    await waitFor(
      'its own messages',
      async () => seen.length,
      (n) => n >= 2,
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.filter((t) => t.includes(other))).toEqual([]);
    gateway.end(true);

    // A role provisioned before confirmations existed gains their ACLs from setup.
    await admin.ensure({
      command: 'removeRoleACL',
      rolename: gatewayRole(id),
      acltype: 'subscribeLiteral',
      topic: storedTopic(mine),
    });
    expect(await updateGatewayRoles(admin)).toContain(gatewayRole(id));
    const role = await admin.run({ command: 'getRole', rolename: gatewayRole(id) });
    const acls = (role.data as { role: { acls: { acltype: string; topic: string }[] } }).role.acls;
    expect(acls).toContainEqual(expect.objectContaining({ acltype: 'subscribeLiteral', topic: storedTopic(mine) }));

    // Its inverters change: the ACL follows, and a serial it gave up can go to another gateway.
    await provisionGateway(admin, id, [mine]);
    expect(await topicsOf(id)).toEqual([`solar/v1/${mine}/#`]);
    await provisionGateway(admin, `u${process.pid}`, [alsoMine]);
    expect(await topicsOf(`u${process.pid}`)).toEqual([`solar/v1/${alsoMine}/#`]);
    await removeGateway(admin, `u${process.pid}`);

    await removeGateway(admin, id);
    expect(await overTls(gatewayUsername(id), password)).toMatch(/Not authorized|Bad username or password/);
    await removeGateway(admin, id); // idempotent
    await watcher.close();
  });

  it('many gateways in one call: each its own role and account; a serial listed twice changes nothing', async () => {
    const ids = [`ba${process.pid}`, `bb${process.pid}`];
    const [a, b] = [`GWBA${process.pid}`, `GWBB${process.pid}`];
    await expect(
      provisionGateways(admin, [
        { id: ids[0]!, serials: [a] },
        { id: ids[1]!, serials: [a, b] },
      ]),
    ).rejects.toThrow(new RegExp(`${a} \\(gateway ${ids[0]}\\) already belongs to another gateway`));
    expect(await topicsOf(ids[0]!)).toMatch(/not found/i);

    const passwords = await provisionGateways(admin, [
      { id: ids[0]!, serials: [a] },
      { id: ids[1]!, serials: [b] },
    ]);
    expect([...passwords.values()].every((p) => /^[\w-]{32}$/.test(p ?? ''))).toBe(true);
    expect(await topicsOf(ids[0]!)).toEqual([`solar/v1/${a}/#`]);
    const role = await admin.run({ command: 'getRole', rolename: gatewayRole(ids[0]!) });
    expect((role.data as { role: { acls: unknown[] } }).role.acls).toContainEqual(
      expect.objectContaining({ acltype: 'subscribeLiteral', topic: storedTopic(a) }),
    );
    // The serial moves in one call: the gateway giving it up is provisioned in the same call.
    const moved = await provisionGateways(admin, [
      { id: ids[0]!, serials: [a, b] },
      { id: ids[1]!, serials: [] },
    ]);
    expect([...moved.values()]).toEqual([null, null]);
    expect(await topicsOf(ids[0]!)).toEqual([`solar/v1/${a}/#`, `solar/v1/${b}/#`]);
    expect(await topicsOf(ids[1]!)).toEqual([]);
    await removeGateways(admin, ids);
    expect(await topicsOf(ids[1]!)).toMatch(/not found/i);
  });
});
