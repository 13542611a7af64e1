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
  removeGateway,
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
    await provisionGateway(admin, `u${process.pid}`, [alsoMine]);
    await removeGateway(admin, `u${process.pid}`);

    await removeGateway(admin, id);
    expect(await overTls(gatewayUsername(id), password)).toMatch(/Not authorized|Bad username or password/);
    await removeGateway(admin, id); // idempotent
    await watcher.close();
  });
});
