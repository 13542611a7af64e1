// Drill: gateways publishing through the real broker (TLS, their own accounts) to the real ingest,
// the broker crashed (kill -9) while it held messages it had acknowledged (ingest down meanwhile,
// so they wait in the broker's memory for ingest's session), then started again from its last save.
// Mosquitto acknowledges a QoS 1 publish before it persists it: what it held is gone. Two fleets go
// through the same crash: with ingest's confirmations the gateways keep every reading until ingest
// journaled it and send the rest again, so every reading is stored exactly once, per serial; without
// them (the role refusing the confirmations, as one setup has not brought up to date), readings are lost.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMqttConfig } from '../../lib/config';
import { BrokerAdmin } from '../../lib/mqtt/broker-admin';
import { gatewayRole, gatewayUsername, provisionGateway, removeGateway } from '../../lib/mqtt/gateway-accounts';
import { storedTopic } from '../../lib/telemetry/contract';
import {
  compare,
  drillReading,
  ingestDrill,
  ingestOkAgain,
  service,
  sleep,
  storedPerSerial,
} from '../../testing/drills';
import { env, ingestMetric, registerFleet, waitFor } from '../../testing/services';
import { Outbox } from '../src/outbox';
import { Publisher } from '../src/publisher';

const drill = ingestDrill('test_drill_gateway_crash', ['mosquitto']);
const { workers } = drill;
const dir = mkdtempSync(join(tmpdir(), 'gateway-crash-'));
const GATEWAYS = 3;
const PER_GATEWAY = 3;
const POLL_MS = 500;

interface Site {
  id: string;
  serials: string[];
  outbox: Outbox;
  publisher: Publisher;
}
const sites: Site[] = [];

beforeAll(drill.setUp);
afterAll(async () => {
  const admin = await BrokerAdmin.connect(readMqttConfig(env, 'ADMIN'));
  for (const site of sites.splice(0)) {
    await site.publisher.stop();
    site.outbox.close();
    await removeGateway(admin, site.id);
  }
  await admin.close();
  await drill.tearDown();
  rmSync(dir, { recursive: true, force: true });
});

/** Gateways of PER_GATEWAY inverters each, their role allowing ingest's confirmations or not. */
async function gateways(prefix: string, confirmations: boolean): Promise<Site[]> {
  const serials = await registerFleet(prefix, GATEWAYS * PER_GATEWAY);
  const admin = await BrokerAdmin.connect(readMqttConfig(env, 'ADMIN'));
  const made: Site[] = [];
  for (let g = 0; g < GATEWAYS; g++) {
    const id = `${prefix.toLowerCase()}${process.pid}-${g}`;
    const mine = serials.slice(g * PER_GATEWAY, (g + 1) * PER_GATEWAY);
    const password = (await provisionGateway(admin, id, mine, { rekey: true }))!;
    if (!confirmations)
      for (const serial of mine)
        await admin.ensure({
          command: 'removeRoleACL',
          rolename: gatewayRole(id),
          acltype: 'subscribeLiteral',
          topic: storedTopic(serial),
        });
    const outbox = Outbox.open({ dir: join(dir, id), maxBytes: 4 << 20, segmentBytes: 1 << 20 });
    const publisher = new Publisher(outbox, {
      broker: {
        url: env.MQTT_TLS_URL!,
        ca: readFileSync(env.MQTT_TLS_CA_FILE!),
        username: gatewayUsername(id),
        password,
        clientId: `gateway-${id}`,
      },
      serials: mine,
      backoff: { initialMs: 200, maxMs: 1000 },
      confirmTimeoutMs: 5000,
    });
    publisher.start();
    made.push({ id, serials: mine, outbox, publisher });
  }
  await admin.close();
  sites.push(...made);
  return made;
}

/** Every site polls every POLL_MS until stopped; `kept`: the readings each serial put in its outbox. */
function polling(): { kept: Map<string, Set<number>>; stop(): void } {
  const kept = new Map(sites.flatMap((s) => s.serials).map((serial) => [serial, new Set<number>()]));
  const baseTs = Date.now() - 2 * 3_600_000;
  let seq = 0;
  const timer = setInterval(() => {
    for (const site of sites) {
      site.outbox.append(
        site.serials.map((serial) => ({ serial, reading: { ...drillReading(baseTs, seq), state: 'MPPT' as const } })),
      );
      for (const serial of site.serials) kept.get(serial)!.add(seq);
      site.publisher.wake();
    }
    seq += 1;
  }, POLL_MS);
  return { kept, stop: () => clearInterval(timer) };
}

const only = (kept: Map<string, Set<number>>, fleet: Site[]) =>
  new Map(fleet.flatMap((s) => s.serials).map((serial) => [serial, kept.get(serial)!]));

describe('drill: the broker crashes (kill -9) under gateways', () => {
  it('stores every reading once where ingest confirms and gateways resend the unconfirmed; loses some where PUBACK is the end', async () => {
    const confirmed = await gateways('GWCR', true);
    const unconfirmed = await gateways('GWCN', false);
    const first = await workers.start();
    const traffic = polling();
    try {
      await sleep(1500);
      await service('restart', 'mosquitto'); // its save holds ingest's session and subscription
      await ingestOkAgain(first.proc.port, 'ingest subscribed again after the restart', 30_000);
      await sleep(1000);
      await workers.stop(first); // kill -9: the broker queues for its session, in memory
      await sleep(3000);
      await service('kill', 'mosquitto');
      await service('start', 'mosquitto');
      const again = await workers.start({}, first);
      await ingestOkAgain(again.proc.port, 'ingest back after the crash', 30_000);
      await sleep(1500);
      traffic.stop();
      await waitFor(
        "every gateway's outbox sent",
        async () => sites.reduce((n, s) => n + s.outbox.stats().pendingReadings, 0),
        (n) => n === 0,
        60_000,
        200,
      );
      // A replay is a duplicate, stored once, never refused as a device rewriting its past.
      expect(await ingestMetric(again.proc.port, 'ingest_rejected_total{reason="conflicting_reading"}')).toBe(0);
    } finally {
      traffic.stop();
    }
    expect(confirmed.every((s) => s.publisher.confirming)).toBe(true);
    expect(unconfirmed.some((s) => s.publisher.confirming)).toBe(false);
    const resent = confirmed.reduce((n, s) => n + s.publisher.counts.resent, 0);
    const kept = only(traffic.kept, confirmed);
    const stored = await waitFor(
      'every reading of the confirmed fleet stored',
      () => storedPerSerial(drill.influx, 'GWCR'),
      (s) => compare(kept, s).lost === 0,
      60_000,
      500,
    ).catch(() => storedPerSerial(drill.influx, 'GWCR'));
    const report = compare(kept, stored);
    const without = compare(only(traffic.kept, unconfirmed), await storedPerSerial(drill.influx, 'GWCN'));
    console.log('broker crash, with confirmations:', JSON.stringify({ ...report, resent }));
    console.log('broker crash, PUBACK only:', JSON.stringify({ ...without, missing: undefined }));
    expect(report).toMatchObject({ lost: 0, duplicates: 0, unexpected: 0 });
    expect(resent).toBeGreaterThan(0);
    expect(without.lost).toBeGreaterThan(0);
  });
});
