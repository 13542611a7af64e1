// Drill: one device floods while 200 well-behaved ones publish a reading every 2 s each:
// valid readings at full speed, then 1 MB invalid messages, then payloads over the limit.
// Every reading the broker acknowledged for the fleet must be stored, per serial; their delay
// (receipt minus the reading's own timestamp) stays within the stated bound; the broker slows the
// flooder to its share there (ops/broker/fair-share-plugin.c: its connection is closed before a
// message beyond the share is acknowledged or queued for ingest) and ingest counts what the broker
// refused by serial, from the broker's reports; ingest turns away what passes beyond its own share,
// counted by serial, at a bounded number of rejection records; the broker's memory barely moves.
// Then row 2's loss itself: the flood while ingest is stopped, so its queue on the broker fills, once
// on the platform's broker (nothing lost) and once on the same broker without its share (the
// acknowledged readings of the fleet it drops: the drill fails without the protection).
import { spawn } from 'node:child_process';
import {
  chownSync,
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InfluxClient } from '../../../lib/influx/client';
import { BROKER_FAIR_SHARE } from '../../../lib/telemetry/fair-share';
import {
  awaitStored,
  compare,
  ingestWorkers,
  type LossReport,
  sleep,
  startTraffic,
  storedPerSerial,
  type Traffic,
} from '../../../testing/drills';
import {
  countPoints,
  env,
  freePort,
  freshInfluxDatabase,
  ingestHealth,
  ingestMetric,
  registerFleet,
  waitFor,
} from '../../../testing/services';

const DATABASE = 'test_drill_flood';
/**
 * The stated bound (ingest/README.md, "Fair share"): the fleet's p99 delay while one device floods,
 * the 5 s, interpolated within the histogram's bucket. The flood's own work (the broker
 * reading the flooder's packets before refusing them, ingest turning them away) is slower on a
 * starved machine: measured 2.3-2.9 s at load 12-15, 4.9 s (three runs) at load 15-18 and 7.2 s at
 * load 17-21 on 2 cores, the slowest reading 7.7-8.3 s in every run. On a machine that busy before
 * the flood (other suites running: a load average over 3 per core) the bound is 10 s; without
 * either share the flood made it 14.3 s already at load 13.
 */
const P99_BOUND_S = 5;
const P99_BOUND_BUSY_S = 10;
const BUSY_LOAD_PER_CORE = 3;
const FLEET = 200;
const MOSQUITTO_DIR = '.data/test/mosquitto';

/** The test broker's resident memory, bytes (its PID file is written by ops/services.sh). */
function brokerRssBytes(): number {
  const pid = readFileSync(`${MOSQUITTO_DIR}/mosquitto.pid`, 'utf8').trim();
  const rss = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(rss?.[1] ?? 0) * 1024;
}
/**
 * What the flood may add to the broker's memory: what its share lets into ingest's queue (32 MiB of
 * bytes at once) and the packets being read. Without the share it was ingest's whole session
 * (max_queued_bytes + max_inflight_bytes, 288 MiB; 8.47 GB before those limits). Measured from the
 * drill's start: in a whole suite the broker arrives already holding what earlier tests left (their
 * sessions, memory its allocator keeps), 600 MB in one CI run.
 */
const BROKER_GROWTH_BOUND = 128 * 1_048_576;
let influx: InfluxClient;
const workers = ingestWorkers(DATABASE);

beforeAll(async () => {
  ({ influx } = await freshInfluxDatabase(DATABASE));
});
afterAll(async () => {
  await workers.cleanup();
});

interface Sent {
  sent: number;
  acked: number;
  ms: number;
}
/**
 * Runs the flooder (flooder.ts) in its own process: valid, invalid, then oversized messages for `ms`
 * each at most, the phase under way ending early once `endPhaseWhen` holds (checked every 100 ms).
 */
async function flood(
  serial: string,
  ms: { valid: number; invalid: number; huge: number },
  { brokerUrl = env.MQTT_URL!, endPhaseWhen = (): boolean => false } = {},
) {
  const args = ['--import', 'tsx', 'ingest/test/drills/flooder.ts', serial, String(ms.valid), String(ms.invalid)];
  const child = spawn(process.execPath, [...args, String(ms.huge)], {
    env: { ...env, MQTT_URL: brokerUrl },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (d) => {
    output += d;
  });
  const watch = setInterval(() => {
    if (!endPhaseWhen()) return;
    clearInterval(watch);
    child.kill('SIGUSR2');
  }, 100);
  const code = await new Promise((resolve) => child.once('exit', resolve)).finally(() => clearInterval(watch));
  if (code !== 0) throw new Error(`the flooder exited with ${code}: ${output}`);
  return JSON.parse(output) as { valid: Sent; invalid: Sent; huge: Sent };
}

/**
 * A quantile of a Prometheus histogram's observations between two scrapes, interpolated within its
 * bucket as Prometheus's histogram_quantile does (a bucket's upper bound overstates it by up to the
 * bucket's width: 2 s at the 5 s bucket).
 */
function quantileBetween(before: Map<string, number>, after: Map<string, number>, q: number): number {
  const total = (after.get('+Inf') ?? 0) - (before.get('+Inf') ?? 0);
  let lower = 0;
  let below = 0;
  for (const [le, n] of after) {
    const count = n - (before.get(le) ?? 0);
    if (count >= q * total && count > 0) {
      if (le === '+Inf') return Number.POSITIVE_INFINITY;
      return lower + (Number(le) - lower) * ((q * total - below) / (count - below));
    }
    lower = Number(le);
    below = count;
  }
  return Number.NaN; // nothing observed
}
async function buckets(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^ingest_reading_delay_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm))
    out.set(m[1]!, Number(m[2]));
  return out;
}

/**
 * A broker configured as this profile's (its mosquitto.conf: the same accounts, limits and queue
 * sizes) but without the fair-share plugin, on a port of its own: the broker as it was before the
 * share, for the drill to show what the share guards against. No persistence: nothing outlives it.
 */
async function brokerWithoutFairShare() {
  const dir = mkdtempSync(`${MOSQUITTO_DIR}-plain-`);
  const port = await freePort();
  const [from, to] = [`${process.cwd()}/${MOSQUITTO_DIR}/`, `${process.cwd()}/${dir}/`];
  let listeners = 0;
  const conf = readFileSync(`${MOSQUITTO_DIR}/mosquitto.conf`, 'utf8')
    .split('\n')
    .flatMap((line) => {
      if (line.startsWith('listener ')) return listeners++ === 0 ? [`listener ${port} 127.0.0.1`] : [];
      if (/^(cafile|certfile|keyfile|tls_version|require_certificate) /.test(line)) return []; // the TLS listener's
      if (/^plugin \S*fair_share\.so$|^plugin_opt_(messages_per_second|message_burst|bytes_|byte_|report_)/.test(line))
        return [];
      // Data files move to the new directory; plugin libraries (the dynsec guard) stay where setup built them.
      if (line.startsWith('plugin ')) return [line];
      return [line === 'persistence true' ? 'persistence false' : line.replaceAll(from, to)];
    });
  writeFileSync(`${dir}/mosquitto.conf`, conf.join('\n'));
  copyFileSync(`${MOSQUITTO_DIR}/dynamic-security.json`, `${dir}/dynamic-security.json`);
  // Run as root, the broker changes to its own user, as the profile's does: the files are that user's.
  const owner = statSync(MOSQUITTO_DIR);
  if (process.getuid?.() === 0)
    for (const path of [dir, ...readdirSync(dir).map((f) => `${dir}/${f}`)]) chownSync(path, owner.uid, owner.gid);
  const child = spawn('mosquitto', ['-c', `${dir}/mosquitto.conf`], { stdio: 'ignore' });
  const exited = new Promise((done) => child.once('exit', done));
  const listening = () =>
    new Promise<boolean>((answer) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        answer(true);
      });
      socket.once('error', () => answer(false));
    });
  await waitFor(`a broker without the fair share on port ${port}`, listening, Boolean, 20_000, 100);
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    log: () => readFileSync(`${dir}/mosquitto.log`, 'utf8'),
    async stop() {
      child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * What fills ingest's queue on the broker while ingest takes nothing: max_queued_bytes +
 * max_inflight_bytes (288 MiB, ops/setup.sh) is 302 of the flooder's 1 MB messages.
 */
const QUEUE_FILLING_MESSAGES = 302;

/**
 * Row 2's loss: the fleet publishes while ingest is stopped (SIGSTOP) and one device floods 1 MB
 * invalid messages for `floodMs` at most (or until `endFloodWhen` holds), so everything queues for
 * ingest on the broker; the fleet goes on for a second more, then ingest does.
 * Returns what the fleet sent, the flooder's counts, and what of the fleet was stored once ingest drained.
 */
async function floodWhileIngestStopped(
  prefix: string,
  broker: { url: string; port: number },
  floodMs: number,
  endFloodWhen?: () => boolean,
) {
  const fleet = await registerFleet(prefix, FLEET);
  const [flooder] = await registerFleet(`F${prefix}`, 1);
  const w = await workers.start({ MQTT_URL: broker.url });
  const traffic = await startTraffic({ serials: fleet, ratePerSerial: 0.5, connections: 4, brokerPort: broker.port });
  let flooded: Awaited<ReturnType<typeof flood>> | undefined;
  try {
    await sleep(1000);
    w.proc.child.kill('SIGSTOP');
    flooded = await flood(
      flooder!,
      { valid: 0, invalid: floodMs, huge: 0 },
      { brokerUrl: broker.url, endPhaseWhen: endFloodWhen },
    );
    await sleep(1000);
  } finally {
    w.proc.child.kill('SIGCONT');
    await traffic.stop();
  }
  const report = await storedOnceDrained(prefix, traffic, w.proc.port);
  await workers.stop(w);
  const { missing, ...counts } = report;
  console.log(
    `flood while ingest is stopped, on ${prefix}:`,
    JSON.stringify({
      sent: traffic.sentTotal(),
      flooder: flooded!.invalid,
      ...counts,
      serialsLosing: Object.keys(missing).length,
    }),
  );
  return { sent: traffic.sentTotal(), flooder: flooded!.invalid, report };
}

/**
 * What of the fleet is stored: all of it, or what is once ingest has drained (its journal shipped
 * and nothing more stored for 5 s), so a loss is reported without waiting out a timeout.
 */
async function storedOnceDrained(prefix: string, traffic: Traffic, port: number): Promise<LossReport> {
  const deadline = Date.now() + 90_000;
  let stored = -1;
  let since = Date.now();
  for (;;) {
    const report = compare(traffic.acked, await storedPerSerial(influx, prefix));
    if (report.lost === 0 || Date.now() > deadline) return report;
    const shipped = (await ingestHealth(port)).journalBacklogBytes === 0;
    if (report.stored !== stored || !shipped) [stored, since] = [report.stored, Date.now()];
    else if (Date.now() - since >= 5000) return report;
    await sleep(500);
  }
}

describe('drill: one device floods among a well-behaved fleet', () => {
  it('stores everything of the fleet, keeps its delay within the bound, and slows the flooder at the broker, naming its serial', async () => {
    const fleet = await registerFleet('FAIR', FLEET);
    const [flooder] = await registerFleet('FLOOD', 1);
    const w = await workers.start();
    const traffic = await startTraffic({ serials: fleet, ratePerSerial: 0.5, liveTimestamps: true, connections: 4 });
    const health: number[] = [];
    // Where the fleet's time goes: before ingest received a reading (the broker's queue and the
    // publishers'), and in the journal until InfluxDB stored it.
    const lag = { readingDelayMaxS: 0, journalLagMaxS: 0 };
    const brokerStart = brokerRssBytes();
    let brokerPeak = brokerStart;
    const probe = setInterval(() => {
      brokerPeak = Math.max(brokerPeak, brokerRssBytes());
      const started = Date.now();
      void ingestHealth(w.proc.port)
        .then((h) => {
          health.push(Date.now() - started);
          lag.readingDelayMaxS = Math.max(lag.readingDelayMaxS, Number(h.readingDelaySeconds ?? 0));
          lag.journalLagMaxS = Math.max(lag.journalLagMaxS, Number(h.lagSeconds ?? 0));
        })
        .catch(() => health.push(Number.POSITIVE_INFINITY));
    }, 500);
    let before = new Map<string, number>();
    const loadPerCore = loadavg()[0]! / availableParallelism();
    const p99Bound = loadPerCore > BUSY_LOAD_PER_CORE ? P99_BOUND_BUSY_S : P99_BOUND_S;
    const floodMs = { valid: 8000, invalid: 5000, huge: 3000 };
    let flooded: Awaited<ReturnType<typeof flood>> | undefined;
    try {
      await sleep(3000);
      before = await buckets(w.proc.port);
      flooded = await flood(flooder!, floodMs);
      await sleep(2000);
    } finally {
      clearInterval(probe);
      await traffic.stop();
    }
    const report = await awaitStored(influx, 'FAIR', traffic);
    const p99 = quantileBetween(before, await buckets(w.proc.port), 0.99);
    const limited = await ingestMetric(w.proc.port, `ingest_device_rate_limited_total{serial="${flooder}"}`);
    // The broker reports the flooder within its report interval (10 s); ingest reads the report.
    const refusedAtBroker = await waitFor(
      "ingest's count of the flooder's messages the broker refused",
      () => ingestMetric(w.proc.port, `ingest_broker_fair_share_refused_total{serial="${flooder}"}`),
      (n) => n > 0,
      20_000,
      500,
    ).catch(() => 0);
    console.log(
      'one device floods:',
      JSON.stringify({
        fleetSent: traffic.sentTotal(),
        flooder: flooded,
        limited,
        refusedAtBroker,
        loadPerCore: Number(loadPerCore.toFixed(1)),
        p99: Number(p99.toFixed(2)),
        p99Bound,
        lag,
        report,
        healthMaxMs: Math.max(...health),
        brokerStartMB: Math.round(brokerStart / 1_048_576),
        brokerPeakMB: Math.round(brokerPeak / 1_048_576),
      }),
    );
    expect(report.published).toBe(traffic.sentTotal());
    expect(report).toMatchObject({ lost: 0, missing: {} });
    expect(p99).toBeLessThanOrEqual(p99Bound);
    // The broker acknowledged (and queued for ingest) only the device's share there: its burst and
    // rate (a quarter more for the reconnections' timing), for messages and for bytes.
    const floodS = (floodMs.valid + floodMs.invalid + floodMs.huge) / 1000;
    const share = BROKER_FAIR_SHARE;
    const { valid, invalid, huge } = flooded!;
    expect(valid.acked + invalid.acked + huge.acked).toBeLessThanOrEqual(
      1.25 * (share.messageBurst + share.messagesPerSecond * floodS),
    );
    expect(invalid.acked * 1_000_000 + huge.acked * 1_500_000).toBeLessThanOrEqual(
      1.25 * (share.byteBurst + share.bytesPerSecond * floodS),
    );
    // The flooder visible by serial: what the broker refused it, counted by ingest from its reports.
    expect(refusedAtBroker).toBeGreaterThan(0);
    // Ingest's share is a quarter of the broker's: what passes beyond it is turned away, by serial.
    expect(limited).toBeGreaterThan(0);
    expect(await countPoints(influx, 'telemetry', `"serial" = '${flooder}'`)).toBeLessThan(valid.acked);
    // A bounded number of records whatever it sent (the budget's burst plus 10 a minute).
    expect(await countPoints(influx, 'rejected"."rejected_message', `"serial" = '${flooder}'`)).toBeLessThanOrEqual(25);
    // Ingest answered all along (probed from this process, which is busy flooding, hence the slack).
    expect(health.every((ms) => ms < 20_000)).toBe(true); // 12.4 s seen at load 21
    // and kept its connection to the broker (it missed keepalives and reconnected in a loop before).
    expect(w.proc.output()).not.toMatch(/broker connection lost/);
    expect(brokerPeak - brokerStart).toBeLessThan(BROKER_GROWTH_BOUND);
    await workers.stop(w); // the next drill's worker must be the only one receiving
  });

  it('keeps every reading of the fleet when a device floods while ingest is stopped, which the broker without its share does not', async () => {
    // Without the share (the broker as it was): the flood lasts until the broker drops messages for
    // ingest, and 2 s more (seconds on a quiet machine, longer on a busy one; at most 45 s), then
    // the fleet publishes a second more. Whether the fleet's own readings are among those dropped
    // depends on timing: ending at 330 acknowledged once left the queue just short of full, and
    // ending as soon as the drop was logged once lost nothing of the fleet (2.8 s, 326 acknowledged).
    // So up to three floods, each on a fresh broker, must show the loss once.
    const droppingForIngest = /Outgoing messages are being dropped for client ingest-/;
    let dropped: Awaited<ReturnType<typeof floodWhileIngestStopped>> | undefined;
    let plainLog = '';
    for (let attempt = 1; attempt <= 3 && !(dropped && dropped.report.lost > 0); attempt++) {
      const plain = await brokerWithoutFairShare();
      let droppingSinceMs: number | undefined;
      const floodedPastTheDrop = () => {
        if (droppingSinceMs === undefined && droppingForIngest.test(plain.log())) droppingSinceMs = Date.now();
        return droppingSinceMs !== undefined && Date.now() - droppingSinceMs >= 2000;
      };
      try {
        dropped = await floodWhileIngestStopped(`DROP${attempt}`, plain, 45_000, floodedPastTheDrop);
        plainLog = plain.log();
      } finally {
        await plain.stop();
      }
    }
    // Then the same flood, as long, on the platform's broker.
    const platform = { url: env.MQTT_URL!, port: Number(new URL(env.MQTT_URL!).port) };
    const held = await floodWhileIngestStopped('HELD', platform, Math.max(3000, dropped!.flooder.ms));

    // The drill fails without the share: the broker acknowledged every reading of the fleet and
    // dropped some of them for ingest, as in the issue (2,304 of 9,969).
    expect(dropped!.flooder.acked).toBeGreaterThanOrEqual(QUEUE_FILLING_MESSAGES);
    expect(dropped!.report.published).toBe(dropped!.sent);
    expect(dropped!.report.lost).toBeGreaterThan(0);
    expect(plainLog).toMatch(droppingForIngest);
    // With it, the flooder had its share acknowledged (a quarter more for the reconnections' timing) and the fleet lost nothing.
    const share = BROKER_FAIR_SHARE;
    expect(held.flooder.acked * 1_000_000).toBeLessThanOrEqual(
      1.25 * (share.byteBurst + (share.bytesPerSecond * held.flooder.ms) / 1000),
    );
    expect(held.report.published).toBe(held.sent);
    expect(held.report).toMatchObject({ lost: 0, missing: {} });
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
