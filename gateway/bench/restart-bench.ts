// npm run bench:gateway-restart — BENCH_GATEWAYS (2,000) gateways, each the real outbox on disk and
// publisher (MQTT 5 over TLS, the product's default back-off with full jitter), connected to the
// profile's broker; each keeps one reading every 10 s. The broker is restarted under them: how
// long until all are back, the reconnect storm's peak (TLS connections per second, from the
// gateways' own connect events), and published = stored (per serial and sequence, from InfluxDB
// through the real ingest). One broker account for all (dynamic-security provisioning of 2,000
// accounts is the registry's work, not what a restart costs); each gateway has its own client id
// and TLS session. Long (minutes): a benchmark, not part of npm test.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMqttConfig } from '../../lib/config';
import { BrokerAdmin } from '../../lib/mqtt/broker-admin';
import { gatewayUsername, provisionGateway, removeGateway } from '../../lib/mqtt/gateway-accounts';
import type { Reading } from '../../lib/telemetry/contract';
import { compare, ingestWorkers, service, storedPerSerial } from '../../testing/drills';
import { env, freshInfluxDatabase, registerFleet, waitFor } from '../../testing/services';
import { Outbox } from '../src/outbox';
import { Publisher } from '../src/publisher';

const GATEWAYS = Number(process.env.BENCH_GATEWAYS ?? 2000);
const POLL_MS = 10_000;
const BEFORE_S = Number(process.env.BENCH_GATEWAY_BEFORE_S ?? 20);
/** How long the gateways get to come back before the run is reported as failed. */
const RECONNECT_S = Number(process.env.BENCH_GATEWAY_RECONNECT_S ?? 900);
const AFTER_S = Number(process.env.BENCH_GATEWAY_AFTER_S ?? 20);
const DATABASE = 'bench_gateway_restart';
const progress = (m: string) => process.stderr.write(`${m}\n`);

const prefix = `GRS${process.pid}-`;
const id = `restart${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'gateway-restart-'));
progress(`registering ${GATEWAYS} inverters, one per gateway`);
const serials = await registerFleet(prefix, GATEWAYS, { perInstallation: 1 });
const { influx } = await freshInfluxDatabase(DATABASE);
const workers = ingestWorkers(DATABASE);
await workers.start();
const admin = await BrokerAdmin.connect(readMqttConfig(env, 'ADMIN'));
const password = (await provisionGateway(admin, id, serials, { rekey: true }))!;
await admin.close();

const ca = readFileSync(env.MQTT_TLS_CA_FILE!);
const connects: number[][] = serials.map(() => []);
const gateways = serials.map((serial, i) => {
  const outbox = Outbox.open({ dir: join(dir, `gw${i}`), maxBytes: 4 << 20, segmentBytes: 256 << 10 });
  const publisher = new Publisher(outbox, {
    broker: { url: env.MQTT_TLS_URL!, ca, username: gatewayUsername(id), password, clientId: `gateway-${id}-${i}` },
    log: (level, message) => {
      if (level === 'info' && message.startsWith('connected')) connects[i]!.push(Date.now());
    },
  });
  return { serial, outbox, publisher, seq: 0 };
});
const acked = new Map(serials.map((s) => [s, new Set<number>()]));

progress(`connecting ${GATEWAYS} gateways over TLS`);
const coldStart = Date.now();
for (const g of gateways) g.publisher.start();
await waitFor(
  'every gateway connected',
  async () => gateways.filter((g) => g.publisher.connected).length,
  (n) => n === GATEWAYS,
  600_000,
  200,
);
const coldStartS = (Date.now() - coldStart) / 1000;

// Polls: each gateway keeps one reading every 10 s, staggered over the 10 s as real boxes are.
const baseTs = Date.now() - 3_600_000;
let polling = true;
const timers = gateways.map((g, i) =>
  setTimeout(
    function poll() {
      if (!polling) return;
      const reading: Reading & { seq: number } = {
        ts: baseTs + g.seq * 1000,
        energy_wh_total: 1_000_000 + g.seq,
        ac_power_w: 2500,
        state: 'MPPT',
        seq: g.seq,
      };
      g.outbox.append([{ serial: g.serial, reading }]);
      acked.get(g.serial)!.add(g.seq);
      g.seq += 1;
      g.publisher.wake();
      timers[i] = setTimeout(poll, POLL_MS);
    },
    (i * POLL_MS) / GATEWAYS,
  ),
);

await new Promise((r) => setTimeout(r, BEFORE_S * 1000));
progress('restarting the broker');
const restartAt = Date.now();
await service('restart', 'mosquitto');
const brokerBackAt = Date.now();
async function cleanup(): Promise<void> {
  polling = false;
  for (const t of timers) clearTimeout(t);
  await Promise.all(gateways.map((g) => g.publisher.stop()));
  for (const g of gateways) g.outbox.close();
  await workers.cleanup();
  const admin = await BrokerAdmin.connect(readMqttConfig(env, 'ADMIN'));
  await removeGateway(admin, id);
  await admin.close();
  rmSync(dir, { recursive: true, force: true });
}
const reconnected = () => connects.filter((c) => c.some((t) => t > restartAt)).length;
await waitFor(
  'every gateway reconnected',
  async () => reconnected(),
  (n) => n === GATEWAYS,
  RECONNECT_S * 1000,
  200,
).catch(() => undefined);
const reconnects = connects.map((c) => c.find((t) => t > restartAt)).filter((t): t is number => t !== undefined);
const allBack = reconnects.length === GATEWAYS;
const allBackS = (Math.max(...reconnects) - brokerBackAt) / 1000;
const perSecond = new Map<number, number>();
for (const t of reconnects) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
const peak = Math.max(...perSecond.values());
const delays = reconnects.map((t) => t - brokerBackAt).sort((a, b) => a - b);
const pct = (p: number) => Math.round(delays[Math.min(delays.length - 1, Math.floor(p * delays.length))]! / 100) / 10;
const storm = {
  name: 'gateway_broker_restart',
  gateways: GATEWAYS,
  cold_start_all_connected_s: Math.round(coldStartS * 10) / 10,
  broker_restart_s: Math.round((brokerBackAt - restartAt) / 100) / 10,
  reconnected: reconnects.length,
  all_reconnected_s: allBack ? Math.round(allBackS * 10) / 10 : null,
  reconnect_p50_s: pct(0.5),
  reconnect_p95_s: pct(0.95),
  peak_reconnects_per_s: peak,
  connect_failures: gateways.reduce((n, g) => n + g.publisher.counts.connectFailures, 0),
};
if (!allBack) {
  // Not all back within the time given: report what came back; the readings of the others wait in their outboxes.
  console.log(
    `BENCH ${JSON.stringify({ ...storm, error: `${GATEWAYS - reconnects.length} not reconnected after ${RECONNECT_S} s` })}`,
  );
  process.exit(1);
}
await new Promise((r) => setTimeout(r, AFTER_S * 1000));
polling = false;
for (const t of timers) clearTimeout(t);
progress('draining every outbox');
await waitFor(
  'every outbox drained',
  async () => gateways.filter((g) => g.outbox.stats().pendingReadings > 0).length,
  (n) => n === 0,
  600_000,
  500,
);
let report = compare(acked, await storedPerSerial(influx, prefix));
for (let i = 0; i < 60 && report.lost > 0; i++) {
  await new Promise((r) => setTimeout(r, 1000));
  report = compare(acked, await storedPerSerial(influx, prefix));
}
console.log(
  `BENCH ${JSON.stringify({ ...storm, readings_kept: report.published, readings_stored: report.stored, lost: report.lost })}`,
);

await cleanup();
if (report.lost > 0) process.exitCode = 1;
