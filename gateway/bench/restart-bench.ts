// npm run bench:gateway-restart — BENCH_GATEWAYS (2,000) gateways, each the real outbox on disk and
// publisher (MQTT 5 over TLS, the product's back-off with full jitter over the fleet's reconnect
// window, and its catch-up pace: src/fleet.ts; a reading leaves the outbox when ingest confirms it
// stored it, as in production), connected to the profile's broker; each keeps one
// reading every BENCH_GATEWAY_POLL_MS (10 s). The broker is restarted under them (or stopped for
// BENCH_GATEWAY_DOWN_S, so their outboxes fill): the reconnect spread (from the broker being back:
// first, median, 95th percentile, last; the peak of TLS connections per second, from the gateways'
// own connect events), the catch-up (until every gateway has published all it held when the broker
// came back; the fleet's peak of readings published per second) and published = stored (per serial
// and sequence, from InfluxDB through the real ingest). One broker account for all (dynamic-security
// provisioning of 2,000 accounts is the registry's work, not what a restart costs); each gateway has
// its own client id and TLS session. Minutes long: a benchmark, not part of npm test.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMqttConfig } from '../../lib/config';
import { BrokerAdmin } from '../../lib/mqtt/broker-admin';
import { gatewayUsername, provisionGateway, removeGateway } from '../../lib/mqtt/gateway-accounts';
import type { Reading } from '../../lib/telemetry/contract';
import { compare, ingestWorkers, service, sleep, storedPerSerial } from '../../testing/drills';
import { env, freshInfluxDatabase, registerFleet, waitFor } from '../../testing/services';
import { catchUpPace, DEFAULT_FLEET, type Fleet, peakPerSecond, reconnectWindowMs } from '../src/fleet';
import { Outbox } from '../src/outbox';
import { Publisher } from '../src/publisher';

const GATEWAYS = Number(process.env.BENCH_GATEWAYS ?? 2000);
const POLL_MS = Number(process.env.BENCH_GATEWAY_POLL_MS ?? 10_000);
/** The fleet as each gateway's configuration would state it (gateway/README.md, `fleet`). */
const FLEET: Fleet = {
  gateways: GATEWAYS,
  connectsPerSecond: Number(process.env.BENCH_GATEWAY_CONNECTS_PER_S ?? DEFAULT_FLEET.connectsPerSecond),
  readingsPerSecond: Number(process.env.BENCH_GATEWAY_READINGS_PER_S ?? DEFAULT_FLEET.readingsPerSecond),
};
const WINDOW_MS = reconnectWindowMs(FLEET);
const BEFORE_S = Number(process.env.BENCH_GATEWAY_BEFORE_S ?? 20);
/** 0: `restart`; else the broker is stopped this long, then started. */
const DOWN_S = Number(process.env.BENCH_GATEWAY_DOWN_S ?? 0);
/** How long the gateways get to come back before the run is reported as failed. */
const RECONNECT_S = Number(process.env.BENCH_GATEWAY_RECONNECT_S ?? 900);
const AFTER_S = Number(process.env.BENCH_GATEWAY_AFTER_S ?? 20);
const DATABASE = 'bench_gateway_restart';
const progress = (m: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`);
const started = Date.now();

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
    // Ingest's confirmations, as in production: a reading leaves the outbox once ingest journaled it.
    serials: [serial],
    backoff: { initialMs: 1000, maxMs: 300_000, windowMs: WINDOW_MS },
    catchUp: catchUpPace(FLEET, 1, POLL_MS),
    log: (level, message) => {
      if (level === 'info' && message.startsWith('connected')) connects[i]!.push(Date.now());
    },
  });
  return { serial, outbox, publisher, seq: 0 };
});
const acked = new Map(serials.map((s) => [s, new Set<number>()]));

// A fleet's boxes do not all boot in one second: the cold start is spread at the fleet's pace too.
progress(`connecting ${GATEWAYS} gateways over TLS, ${FLEET.connectsPerSecond}/s`);
const coldStart = Date.now();
for (const [i, g] of gateways.entries()) setTimeout(() => g.publisher.start(), (i * 1000) / FLEET.connectsPerSecond);
await waitFor(
  'every gateway connected',
  async () => gateways.filter((g) => g.publisher.connected).length,
  (n) => n === GATEWAYS,
  600_000,
  200,
);
const coldStartS = (Date.now() - coldStart) / 1000;

// Polls: each gateway keeps one reading every POLL_MS, staggered over it as real boxes are.
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

await sleep(BEFORE_S * 1000);
const failuresBefore = gateways.reduce((n, g) => n + g.publisher.counts.connectFailures, 0);
const restartAt = Date.now();
if (DOWN_S > 0) {
  progress(`stopping the broker for ${DOWN_S} s`);
  await service('stop', 'mosquitto');
  await sleep(DOWN_S * 1000);
  await service('start', 'mosquitto');
} else {
  progress('restarting the broker');
  await service('restart', 'mosquitto');
}
const brokerBackAt = Date.now();
// What each gateway held when the broker came back: caught up once it has published that much.
const heldAtBack = gateways.map((g) => g.seq);
const publishedAtBack = gateways.reduce((n, g) => n + g.publisher.counts.published, 0);
const caughtUpAt: (number | null)[] = gateways.map(() => null);
const publishedPerSecond: number[] = [];
let lastPublished = publishedAtBack;
const sampler = setInterval(() => {
  const now = Date.now();
  gateways.forEach((g, i) => {
    if (caughtUpAt[i] === null && g.publisher.counts.published >= heldAtBack[i]!) caughtUpAt[i] = now;
  });
  const published = gateways.reduce((n, g) => n + g.publisher.counts.published, 0);
  publishedPerSecond.push(published - lastPublished);
  lastPublished = published;
}, 1000);
progress(
  `broker back after ${Math.round((brokerBackAt - restartAt) / 1000)} s; reconnect window ${WINDOW_MS / 1000} s`,
);
async function cleanup(): Promise<void> {
  polling = false;
  clearInterval(sampler);
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
let reported = 0;
await waitFor(
  'every gateway reconnected',
  async () => {
    const n = reconnected();
    if (n >= reported + GATEWAYS / 10 || (n === GATEWAYS && reported < n)) {
      progress(`${n} of ${GATEWAYS} reconnected`);
      reported = n;
    }
    return n;
  },
  (n) => n === GATEWAYS,
  RECONNECT_S * 1000,
  200,
).catch(() => undefined);
await waitFor(
  'every gateway caught up',
  async () => caughtUpAt.filter((t) => t !== null).length,
  (n) => n === GATEWAYS,
  RECONNECT_S * 1000,
  500,
).catch(() => undefined);
const reconnects = connects.map((c) => c.find((t) => t > restartAt)).filter((t): t is number => t !== undefined);
const allBack = reconnects.length === GATEWAYS;
const allBackS = (Math.max(...reconnects) - brokerBackAt) / 1000;
const delays = reconnects.map((t) => t - brokerBackAt).sort((a, b) => a - b);
const pct = (p: number) => Math.round(delays[Math.min(delays.length - 1, Math.floor(p * delays.length))]! / 100) / 10;
const caughtUp = caughtUpAt.filter((t): t is number => t !== null);
const storm = {
  name: 'gateway_broker_restart',
  gateways: GATEWAYS,
  poll_s: POLL_MS / 1000,
  fleet: FLEET,
  reconnect_window_s: WINDOW_MS / 1000,
  cold_start_all_connected_s: Math.round(coldStartS * 10) / 10,
  broker_down_s: Math.round((brokerBackAt - restartAt) / 100) / 10,
  reconnected: reconnects.length,
  reconnect_first_s: Math.round(delays[0]! / 100) / 10,
  reconnect_p50_s: pct(0.5),
  reconnect_p95_s: pct(0.95),
  all_reconnected_s: allBack ? Math.round(allBackS * 10) / 10 : null,
  peak_reconnects_per_s: peakPerSecond(reconnects),
  // Each gateway's lost connection is one; beyond GATEWAYS, attempts that failed (refused, timed out).
  connection_losses_and_failed_attempts:
    gateways.reduce((n, g) => n + g.publisher.counts.connectFailures, 0) - failuresBefore,
  catch_up_readings: heldAtBack.reduce((a, b) => a + b, 0) - publishedAtBack,
  catch_up_pace_per_gateway: catchUpPace(FLEET, 1, POLL_MS).readingsPerSecond,
  all_caught_up_s: caughtUp.length === GATEWAYS ? Math.round((Math.max(...caughtUp) - brokerBackAt) / 100) / 10 : null,
  peak_published_per_s: Math.max(0, ...publishedPerSecond),
};
if (!allBack || caughtUp.length < GATEWAYS) {
  // Not all back within the time given: report what came back; the readings of the others wait in their outboxes.
  console.log(
    `BENCH ${JSON.stringify({
      ...storm,
      error:
        `${GATEWAYS - reconnects.length} not reconnected, ` +
        `${GATEWAYS - caughtUp.length} not caught up after ${RECONNECT_S} s`,
    })}`,
  );
  process.exit(1);
}
progress(
  `all reconnected ${storm.all_reconnected_s} s and caught up ${storm.all_caught_up_s} s after the broker came back`,
);
await sleep(AFTER_S * 1000);
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
  `BENCH ${JSON.stringify({
    ...storm,
    // Ingest confirmed them: a reading leaves the outbox then, not at the broker's PUBACK.
    gateways_confirming: gateways.filter((g) => g.publisher.confirming).length,
    readings_confirmed: gateways.reduce((n, g) => n + g.publisher.counts.confirmed, 0),
    readings_kept: report.published,
    readings_stored: report.stored,
    lost: report.lost,
  })}`,
);

await cleanup();
progress(`done in ${Math.round((Date.now() - started) / 1000)} s`);
if (report.lost > 0) process.exitCode = 1;
