// Drill: one device floods while 200 well-behaved ones publish a reading every 2 s each (issue 22,
// rows 1-3): valid readings at full speed, then 1 MB invalid messages, then payloads over the limit.
// Every reading the broker acknowledged for the fleet must be stored, per serial; their delay
// (receipt minus the reading's own timestamp) stays within the stated bound; the flooder is turned
// away unparsed, counted by its serial, and costs a bounded number of rejection records; the broker's
// memory stays bounded by its per-session limits.
import { readFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InfluxClient } from '../../../lib/influx/client';
import { telemetryTopic } from '../../../lib/telemetry/contract';
import { awaitStored, ingestWorkers, sleep, startTraffic } from '../../../testing/drills';
import {
  connectFleetClient,
  countPoints,
  freshInfluxDatabase,
  ingestHealth,
  ingestMetric,
  registerFleet,
} from '../../../testing/services';

const DATABASE = 'test_drill_flood';
/**
 * The stated bound (ingest/README.md, "Fair share"): the fleet's p99 delay while one device floods,
 * on a busy 2-core machine (measured 7.5 s at load 18, 5-10 s at load 4: the flooder's 1 MB messages
 * are read off ingest's queue on the broker before the fleet's behind them; 25-37 s without the share).
 */
const P99_BOUND_S = 10;
const FLEET = 200;

/** The test broker's resident memory, bytes (its PID file is written by ops/services.sh). */
function brokerRssBytes(): number {
  const pid = readFileSync('.data/test/mosquitto/mosquitto.pid', 'utf8').trim();
  const rss = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(rss?.[1] ?? 0) * 1024;
}
/**
 * What one device's flood may add to the broker's memory: ingest's session on it (queue and window,
 * 288 MiB) plus its own. Measured from the drill's start: in a whole suite the broker arrives already
 * holding what earlier tests left (their sessions, memory its allocator keeps), 600 MB in one CI run.
 */
const BROKER_MEMORY_BOUND = 512 * 1_048_576;
let influx: InfluxClient;
const workers = ingestWorkers(DATABASE);
let flooderClient: MqttClient;

beforeAll(async () => {
  ({ influx } = await freshInfluxDatabase(DATABASE));
  flooderClient = await connectFleetClient(`flooder-${process.pid}`);
});
afterAll(async () => {
  await flooderClient?.endAsync();
  await workers.cleanup();
});

/** Publishes `payload()` as fast as the broker acknowledges (up to 200 in flight) for `ms`. */
async function flood(serial: string, payload: (i: number) => string | Buffer, ms: number): Promise<number> {
  const until = Date.now() + ms;
  let sent = 0;
  const inFlight = new Set<Promise<unknown>>();
  while (Date.now() < until) {
    const p = flooderClient.publishAsync(telemetryTopic(serial), payload(sent++), { qos: 1 }).catch(() => undefined);
    inFlight.add(p);
    void p.then(() => inFlight.delete(p));
    if (inFlight.size >= 200) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return sent;
}

/** The p99 of a Prometheus histogram's observations between two scrapes, as its bucket's upper bound. */
async function p99Between(port: number, before: Map<string, number>): Promise<number> {
  const after = await buckets(port);
  const le = [...after.keys()];
  const total = (after.get('+Inf') ?? 0) - (before.get('+Inf') ?? 0);
  for (const bound of le)
    if ((after.get(bound) ?? 0) - (before.get(bound) ?? 0) >= 0.99 * total)
      return Number(bound.replace('+Inf', 'Infinity'));
  return Number.POSITIVE_INFINITY;
}
async function buckets(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^ingest_reading_delay_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm))
    out.set(m[1]!, Number(m[2]));
  return out;
}

describe('drill: one device floods among a well-behaved fleet', () => {
  it('stores everything of the fleet, keeps its delay within the bound, and turns the flooder away by serial', async () => {
    const fleet = await registerFleet('FAIR', FLEET);
    const [flooder] = await registerFleet('FLOOD', 1);
    const w = await workers.start();
    const traffic = await startTraffic({ serials: fleet, ratePerSerial: 0.5, liveTimestamps: true, connections: 4 });
    const health: number[] = [];
    const brokerBefore = brokerRssBytes();
    let brokerPeak = brokerBefore;
    const probe = setInterval(() => {
      brokerPeak = Math.max(brokerPeak, brokerRssBytes());
      const started = Date.now();
      void ingestHealth(w.proc.port)
        .then(() => health.push(Date.now() - started))
        .catch(() => health.push(Number.POSITIVE_INFINITY));
    }, 500);
    let before = new Map<string, number>();
    const sent = { valid: 0, invalid: 0, huge: 0 };
    try {
      await sleep(3000);
      before = await buckets(w.proc.port);
      const now = Date.now();
      sent.valid = await flood(
        flooder!,
        (i) => JSON.stringify({ ts: now + i, energy_wh_total: 1000, ac_power_w: 100, state: 'MPPT' }),
        8000,
      );
      const invalid = Buffer.alloc(1_000_000, 0x61);
      invalid.write('{"x":', 0);
      sent.invalid = await flood(flooder!, () => invalid, 5000);
      sent.huge = await flood(flooder!, () => Buffer.alloc(1_500_000, 0x20), 3000); // over the payload limit
      await sleep(2000);
    } finally {
      clearInterval(probe);
      await traffic.stop();
    }
    const report = await awaitStored(influx, 'FAIR', traffic);
    const p99 = await p99Between(w.proc.port, before);
    const limited = await ingestMetric(w.proc.port, `ingest_device_rate_limited_total{serial="${flooder}"}`);
    console.log(
      'one device floods:',
      JSON.stringify({
        fleetSent: traffic.sentTotal(),
        flooderSent: sent,
        limited,
        p99,
        report,
        healthMaxMs: Math.max(...health),
        brokerPeakMB: Math.round(brokerPeak / 1_048_576),
        brokerBeforeMB: Math.round(brokerBefore / 1_048_576),
      }),
    );
    expect(report.published).toBe(traffic.sentTotal());
    expect(report).toMatchObject({ lost: 0, missing: {} });
    expect(p99).toBeLessThanOrEqual(P99_BOUND_S);
    expect(limited).toBeGreaterThan(sent.valid / 2); // its burst and rate pass, the rest is turned away
    expect(await countPoints(influx, 'telemetry', `"serial" = '${flooder}'`)).toBeLessThan(sent.valid / 2);
    // A bounded number of records whatever it sent (the budget's burst plus 10 a minute).
    expect(await countPoints(influx, 'rejected"."rejected_message', `"serial" = '${flooder}'`)).toBeLessThanOrEqual(25);
    // Ingest answered all along (probed from this process, which is busy flooding, hence the slack).
    expect(health.every((ms) => ms < 20_000)).toBe(true); // 12.4 s seen at load 21
    expect(brokerPeak - brokerBefore).toBeLessThan(BROKER_MEMORY_BOUND);
    await workers.stop(w); // the next drill's worker must be the only one receiving
  });

  it("a stalled worker's backlog is not a flood: a device within its share loses nothing after it", async () => {
    // A small share so the stall's backlog is well past the burst: 2 messages/s, bursts of 5.
    const [device] = await registerFleet('STALL', 1);
    const w = await workers.start({ INGEST_DEVICE_MESSAGES_PER_SECOND: '2', INGEST_DEVICE_MESSAGE_BURST: '5' });
    const traffic = await startTraffic({ serials: [device!], ratePerSerial: 2, connections: 1 });
    try {
      await sleep(2000);
      w.proc.child.kill('SIGSTOP'); // the broker queues the device's readings meanwhile: ~20, 4 bursts' worth
      await sleep(10_000);
      w.proc.child.kill('SIGCONT');
      await sleep(3000);
    } finally {
      w.proc.child.kill('SIGCONT');
      await traffic.stop();
    }
    const report = await awaitStored(influx, 'STALL', traffic);
    expect(report.published).toBeGreaterThanOrEqual(20); // ~20 of them queued during the stall: four bursts
    expect(report).toMatchObject({ lost: 0, missing: {} });
    expect(await ingestMetric(w.proc.port, 'ingest_rejected_total{reason="rate_limited"}')).toBe(0);
  });
});
