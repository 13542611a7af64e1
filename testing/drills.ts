// Shared pieces of the fault drills (ingest/test/drills/): live fleet traffic whose every reading
// is accounted for per serial, stored readings counted per serial, and the services stopped and
// started under it. A drill publishes, breaks something, heals it, and asserts that every reading
// the broker acknowledged is in InfluxDB — per serial, by sequence number, so a loss on one device
// cannot hide behind a duplicate on another.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { InfluxClient } from '../lib/influx/client';
import { telemetryTopic } from '../lib/telemetry/contract';
import {
  connectFleetClient,
  discardIngestSession,
  freshInfluxDatabase,
  ingestHealth,
  type IngestProcess,
  startIngestProcess,
  waitFor,
} from './services';

const execFileAsync = promisify(execFile);

export type ServiceName = 'mosquitto' | 'influxdb' | 'postgres';

/**
 * Stops, starts, restarts or kills one of this checkout's test services (ops/services.sh, by PID,
 * never by name). `kill` is a crash: SIGKILL to the server and its children, nothing shut down or
 * flushed; `start` then recovers from what is on disk. Asynchronous, so the drill's traffic and
 * clients keep running meanwhile.
 */
export async function service(action: 'stop' | 'start' | 'restart' | 'kill', name: ServiceName): Promise<void> {
  await execFileAsync('bash', ['ops/services.sh', action, name], { env: process.env });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One reading of `serial` number `seq`: a unique timestamp per (serial, seq) and a plausible rising counter. */
export function drillReading(baseTs: number, seq: number) {
  return {
    ts: baseTs + seq * 1000,
    energy_wh_total: 1_000_000 + seq * 0.7, // 2,500 W for one second
    ac_power_w: 2500,
    state: 'MPPT',
    seq,
  };
}

export interface TrafficOptions {
  serials: string[];
  /** Readings per serial per second. */
  ratePerSerial: number;
  /** Device time of sequence 0 (default: two hours ago, inside any retention and clock check). */
  baseTs?: number;
  /** Publishing connections (default 2); each reconnects on its own, as devices do. */
  connections?: number;
  /** Reconnect period of those connections (default 1000 ms, mqtt.js's default; dataloggers take longer). */
  reconnectMs?: number;
  /** Stamp each reading with the time it is published (for delay measurements), instead of baseTs + seq s. */
  liveTimestamps?: boolean;
  /** Another broker on loopback than MQTT_URL's (a drill's own), by port. */
  brokerPort?: number;
}

export interface Traffic {
  /** Readings published per serial (sent), and those the broker acknowledged (PUBACK). */
  readonly sent: Map<string, number>;
  readonly acked: Map<string, Set<number>>;
  ackedTotal(): number;
  sentTotal(): number;
  /** Stops publishing, waits until every sent reading is acknowledged (mqtt.js resends across reconnects), closes the connections. */
  stop(ackTimeoutMs?: number): Promise<void>;
}

/**
 * Live traffic: every serial publishes `ratePerSerial` readings a second (QoS 1), in ticks of 100 ms,
 * from `connections` fleet connections, until stopped. Survives the broker going away: mqtt.js keeps
 * what it could not send and resends it when the connection is back.
 */
export async function startTraffic(options: TrafficOptions, idPrefix = `drill-${process.pid}`): Promise<Traffic> {
  const baseTs = options.baseTs ?? Date.now() - 2 * 3_600_000;
  const clients: MqttClient[] = [];
  for (let i = 0; i < (options.connections ?? 2); i++)
    clients.push(
      await connectFleetClient(`${idPrefix}-${i}-${Date.now()}`, {
        reconnectPeriod: options.reconnectMs ?? 1000,
        ...(options.brokerPort === undefined ? {} : { port: options.brokerPort }),
      }),
    );
  const sent = new Map(options.serials.map((s) => [s, 0]));
  const acked = new Map(options.serials.map((s) => [s, new Set<number>()]));
  let pending = 0;
  let ackedTotal = 0;
  let owed = 0; // fractional readings per serial carried between ticks
  // A reading the connection could not deliver (error) is sent again on the next tick, as a datalogger's buffer does.
  const publish = (serial: string, seq: number, client: MqttClient) => {
    pending += 1;
    const reading = drillReading(baseTs, seq);
    if (options.liveTimestamps) reading.ts = Date.now();
    client.publish(telemetryTopic(serial), JSON.stringify(reading), { qos: 1 }, (error) => {
      pending -= 1;
      if (error) retry.push([serial, seq, client]);
      else if (!acked.get(serial)!.has(seq)) {
        acked.get(serial)!.add(seq);
        ackedTotal += 1;
      }
    });
  };
  let retry: [string, number, MqttClient][] = [];
  const resend = () => {
    const again = retry;
    retry = [];
    for (const [serial, seq, client] of again) publish(serial, seq, client);
  };
  const tick = () => {
    resend();
    owed += options.ratePerSerial / 10;
    const now = Math.floor(owed);
    owed -= now;
    for (let k = 0; k < now; k++)
      options.serials.forEach((serial, i) => {
        const seq = sent.get(serial)!;
        sent.set(serial, seq + 1);
        publish(serial, seq, clients[i % clients.length]!);
      });
  };
  const timer = setInterval(tick, 100);
  return {
    sent,
    acked,
    ackedTotal: () => ackedTotal,
    sentTotal: () => [...sent.values()].reduce((a, b) => a + b, 0),
    async stop(ackTimeoutMs = 60_000) {
      clearInterval(timer);
      await waitFor(
        'every published reading acknowledged by the broker',
        async () => {
          if (pending === 0 && retry.length > 0) resend();
          return pending + retry.length;
        },
        (n) => n === 0,
        ackTimeoutMs,
      );
      await Promise.all(clients.map((c) => c.endAsync()));
    },
  };
}

/**
 * The sequence numbers stored per serial in the `telemetry` measurement, for serials starting with
 * `prefix`: one entry per stored point, so a reading stored twice (under two series or timestamps)
 * shows twice.
 */
export async function storedPerSerial(influx: InfluxClient, prefix: string): Promise<Map<string, number[]>> {
  const stored = new Map<string, number[]>();
  const [series = []] = await influx.query(
    `SELECT "seq" FROM "telemetry" WHERE "serial" =~ /^${prefix}/ GROUP BY "serial"`,
  );
  for (const s of series) {
    const column = s.columns.indexOf('seq');
    stored.set(
      s.tags!.serial!,
      s.values.map((row) => Number(row[column])),
    );
  }
  return stored;
}

export interface LossReport {
  published: number;
  stored: number;
  /** Acknowledged readings not stored, per serial (only serials that lost something). */
  missing: Record<string, number>;
  lost: number;
  /** Points beyond one per acknowledged reading: a reading stored twice. */
  duplicates: number;
  /** Readings stored that were never acknowledged to their device. */
  unexpected: number;
}

/** Compares what the broker acknowledged with what is stored, per serial and sequence number. */
export function compare(acked: Map<string, Set<number>>, stored: Map<string, readonly number[]>): LossReport {
  const report: LossReport = { published: 0, stored: 0, missing: {}, lost: 0, duplicates: 0, unexpected: 0 };
  for (const [serial, seqs] of acked) {
    const points = stored.get(serial) ?? [];
    const have = new Set(points);
    report.published += seqs.size;
    report.stored += have.size;
    report.duplicates += points.length - have.size;
    for (const seq of have) if (!seqs.has(seq)) report.unexpected += 1;
    let missing = 0;
    for (const seq of seqs) if (!have.has(seq)) missing += 1;
    if (missing > 0) {
      report.missing[serial] = missing;
      report.lost += missing;
    }
  }
  return report;
}

/** Waits (up to timeoutMs) until every acknowledged reading is stored; returns the last report either way. */
export async function awaitStored(
  influx: InfluxClient,
  prefix: string,
  traffic: Pick<Traffic, 'acked'>,
  timeoutMs = 60_000,
): Promise<LossReport> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const report = compare(traffic.acked, await storedPerSerial(influx, prefix));
    if (report.lost === 0 || Date.now() > deadline) return report;
    await sleep(500);
  }
}

/**
 * One drill's verdict, shared by every drill: the traffic is stopped (every reading it sent
 * acknowledged by the broker), then every acknowledged reading must be stored within
 * `storedWithinMs`, once, per serial and sequence number, and nothing else. Logs the count under
 * `label`; throws naming what was lost, doubled or unexpected.
 */
export async function expectAllStored(
  influx: InfluxClient,
  label: string,
  traffic: Traffic,
  storedWithinMs = 90_000,
): Promise<LossReport> {
  const prefix = commonPrefix([...traffic.acked.keys()]);
  const report = await awaitStored(influx, prefix, traffic, storedWithinMs);
  console.log(`${label}:`, traffic.sentTotal(), 'sent', JSON.stringify(report));
  const sent = traffic.sentTotal();
  if (report.published !== sent || report.lost > 0 || report.duplicates > 0 || report.unexpected > 0)
    throw new Error(
      `${label}: ${sent} sent, ${report.published} acknowledged, ${report.lost} of them not stored ` +
        `(per serial: ${JSON.stringify(report.missing)}), ${report.duplicates} stored twice, ${report.unexpected} stored but never acknowledged`,
    );
  return report;
}

const commonPrefix = (names: string[]): string =>
  names.reduce((prefix, name) => {
    let i = 0;
    while (i < prefix.length && prefix[i] === name[i]) i += 1;
    return prefix.slice(0, i);
  }, names[0] ?? '');

/**
 * A drill under a live fleet: starts `options`' traffic (its devices registered and their ingest
 * workers already subscribed), runs `fault` under it, stops the traffic even if the fault fails,
 * and holds the result to `expectAllStored`.
 */
export async function underLiveTraffic(
  influx: InfluxClient,
  label: string,
  options: TrafficOptions & { ackWithinMs?: number; storedWithinMs?: number },
  fault: (traffic: Traffic) => Promise<void>,
): Promise<{ report: LossReport; traffic: Traffic }> {
  const traffic = await startTraffic(options);
  try {
    await fault(traffic);
  } finally {
    await traffic.stop(options.ackWithinMs);
  }
  return { report: await expectAllStored(influx, label, traffic, options.storedWithinMs), traffic };
}

export interface DrillWorker {
  proc: IngestProcess;
  dataDir: string;
  group: string;
  worker: string;
}

/**
 * Ingest processes for one drill file, each with its own data directory and worker id (or those of
 * an earlier one, to restart it on the same journal), a plain subscription unless given a share
 * group; `cleanup` kills them, discards their broker sessions and removes their directories.
 */
export function ingestWorkers(database: string) {
  const running: IngestProcess[] = [];
  const dataDirs: string[] = [];
  const workers = new Set<string>();
  let seq = 0;
  return {
    async start(
      overrides: Record<string, string> = {},
      reuse?: { dataDir?: string; group?: string; worker?: string },
      ready?: Parameters<typeof startIngestProcess>[1],
    ): Promise<DrillWorker> {
      seq += 1;
      const dataDir = reuse?.dataDir ?? mkdtempSync(join(tmpdir(), 'ingest-drill-'));
      if (!reuse?.dataDir) dataDirs.push(dataDir);
      // As deployed by default: one worker, a plain subscription (INGEST_SHARE_GROUP=none); give a group for several.
      const group = reuse?.group ?? 'none';
      const worker = reuse?.worker ?? `d${process.pid}-${seq}`;
      workers.add(worker);
      const proc = await startIngestProcess(
        {
          INFLUX_DATABASE: database,
          INGEST_SHARE_GROUP: group,
          INGEST_DATA_DIR: dataDir,
          INGEST_WORKER_ID: worker,
          ...overrides,
        },
        ready,
      );
      running.push(proc);
      return { proc, dataDir, group, worker };
    },
    /** Stops one (SIGKILL by default) and forgets it. */
    async stop(w: DrillWorker, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
      running.splice(running.indexOf(w.proc), 1);
      return w.proc.stop(signal);
    },
    async cleanup(): Promise<void> {
      await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
      for (const worker of workers) await discardIngestSession(worker).catch(() => undefined);
      for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

/** Waits until a worker's /healthz is 200 `ok` again (subscribed on this connection, nothing held), naming `what`. */
export const ingestOkAgain = (port: number, what: string, timeoutMs = 60_000) =>
  waitFor(
    what,
    () => ingestHealth(port),
    (h) => h.status === 'ok' && h.subscribed === true,
    timeoutMs,
    100,
  );

/**
 * What every ingest drill file sets up: a fresh InfluxDB database of its own and its workers; after
 * each drill, the services it may have stopped or killed are started again and its workers killed,
 * their broker sessions and journals removed. In the file: `beforeAll(drill.setUp)` and
 * `afterEach(drill.tearDown)`.
 */
export function ingestDrill(database: string, restores: ServiceName[] = []) {
  const workers = ingestWorkers(database);
  let influx: InfluxClient | undefined;
  return {
    workers,
    get influx(): InfluxClient {
      if (!influx) throw new Error(`drill ${database}: setUp has not run`);
      return influx;
    },
    setUp: async () => {
      ({ influx } = await freshInfluxDatabase(database));
    },
    tearDown: async () => {
      for (const name of restores) await service('start', name);
      await workers.cleanup();
    },
  };
}

/**
 * A small filesystem of its own (tmpfs, `size` e.g. '1m'), for drills that fill the disk. Needs
 * root (mount); `release` unmounts and removes it.
 */
export async function smallFilesystem(size: string): Promise<{ dir: string; release(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'drill-disk-'));
  try {
    await execFileAsync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`the full-disk drill mounts a ${size} tmpfs and needs root: ${(error as Error).message}`);
  }
  return {
    dir,
    async release() {
      await execFileAsync('umount', ['-l', dir]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Fills the filesystem at `dir` to the last byte with a file `name`; returns its path. */
export async function fillDisk(dir: string, name = 'filler'): Promise<string> {
  const path = join(dir, name);
  await execFileAsync('dd', ['if=/dev/zero', `of=${path}`, 'bs=4096']).catch(() => undefined); // ends with ENOSPC
  return path;
}
