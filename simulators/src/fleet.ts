// Runs planned inverters on the wire: in real time (one MQTT connection per inverter, with its own
// credentials and last will) or as a backfill of a past period (datalogger-style arrays through a
// few connections, fast-forwarded within each device's fair share).
import type { MqttClient } from 'mqtt';
import { MAX_PAYLOAD_BYTES, MAX_READINGS_PER_MESSAGE, telemetryTopic } from '../../lib/telemetry/contract';
import { DevicePacer } from '../../lib/telemetry/fair-share';
import { DeviceConnection, type DeviceCredentials } from './device-connection';
import { GroundTruthRecorder } from './ground-truth';
import { malformedPayload } from './malformed';
import { inverterOutput, siteConditions, type SiteConditions } from './physics/pv-system';
import type { PlannedInverter } from './scenario';
import { SimulatedInverter, type Emission } from './simulated-inverter';

export interface FleetModel {
  inverters: { planned: PlannedInverter; sim: SimulatedInverter }[];
  truth: GroundTruthRecorder;
}

/** Physics wired to each inverter; site conditions are computed once per site and instant. */
export function buildFleetModel(
  planned: PlannedInverter[],
  seed: number,
  fromMs: number,
  toMs: number,
  intervalSeconds: number,
): FleetModel {
  const cache = new Map<string, SiteConditions>();
  const conditions = (site: PlannedInverter['site'], tMs: number) => {
    let c = cache.get(site.id);
    if (!c || c.tMs !== tMs) {
      c = siteConditions(site, tMs, seed);
      cache.set(site.id, c);
    }
    return c;
  };
  const truth = new GroundTruthRecorder({ seed, fromMs, toMs, intervalSeconds });
  const inverters = planned.map((p) => {
    truth.register(p.spec.serial, p.faults);
    const sim = new SimulatedInverter(
      p.spec.serial,
      (tMs, dcFactor) => {
        const o = inverterOutput(conditions(p.site, tMs), p.system, dcFactor);
        return {
          acPowerW: o.acPowerW,
          state: o.state,
          dcVoltageV: o.dcVoltageV,
          dcCurrentA: o.dcCurrentA,
          acVoltageV: o.acVoltageV,
          acFrequencyHz: o.acFrequencyHz,
          temperatureC: o.temperatureC,
        };
      },
      p.faults,
      p.spec.initialCounterWh ?? 0,
    );
    return { planned: p, sim };
  });
  return { inverters, truth };
}

function stepAndRecord(model: FleetModel, inverter: FleetModel['inverters'][number], tMs: number): Emission {
  const emission = inverter.sim.step(tMs);
  model.truth.record(inverter.planned.spec.serial, tMs, emission.producedWh, inverter.sim.energyWhTotal);
  return emission;
}

export interface RealtimeOptions {
  seed: number;
  intervalSeconds: number;
  credentials: (p: PlannedInverter) => DeviceCredentials;
  log: (message: string) => void;
  connectConcurrency?: number;
}

export interface RealtimeFleet {
  model: FleetModel;
  connections: Map<string, DeviceConnection>;
  /** Simulates and publishes one instant for every inverter; returns how long it took, ms. */
  tick(tMs: number): number;
  stop(): Promise<void>;
}

export async function startRealtimeFleet(planned: PlannedInverter[], options: RealtimeOptions): Promise<RealtimeFleet> {
  const startMs = Date.now();
  const model = buildFleetModel(planned, options.seed, startMs, Number.POSITIVE_INFINITY, options.intervalSeconds);
  const connections = new Map<string, DeviceConnection>();
  const concurrency = options.connectConcurrency ?? 100;
  for (let i = 0; i < planned.length; i += concurrency) {
    await Promise.all(
      planned.slice(i, i + concurrency).map(async (p) => {
        const connection = new DeviceConnection(p.spec.serial, options.credentials(p));
        await connection.connect();
        connections.set(p.spec.serial, connection);
      }),
    );
    if (planned.length > concurrency)
      options.log(`connected ${Math.min(planned.length, i + concurrency)}/${planned.length} inverters`);
  }
  let malformedSeq = 0;
  const tick = (tMs: number) => {
    const started = performance.now();
    for (const inverter of model.inverters) {
      const connection = connections.get(inverter.planned.spec.serial)!;
      const emission = stepAndRecord(model, inverter, tMs);
      if (emission.unpowered) {
        connection.goOffline();
        continue;
      }
      if (emission.offline) connection.goOffline();
      else void connection.goOnline().catch((e: Error) => options.log(e.message));
      if (emission.malformed) connection.sendRaw(malformedPayload(malformedSeq++, tMs).payload);
      connection.send(emission.reading, { duplicate: emission.duplicate });
    }
    return performance.now() - started;
  };
  return {
    model,
    connections,
    tick,
    async stop() {
      await Promise.all([...connections.values()].map((c) => c.drained(5000).then(() => c.close())));
    },
  };
}

export interface BackfillOptions {
  seed: number;
  fromMs: number;
  toMs: number;
  intervalSeconds: number;
  /** A device's messages always go through the same one of these, in order, as over its own link. */
  clients: MqttClient[];
  /**
   * Largest array a device publishes (a datalogger's flush): default a quarter of the contract's
   * payload limit, ~1,300 readings, so a month of 5-minute readings is a handful of messages and a
   * whole fleet's arrays flushed at once stay far below the broker's queue for ingest.
   */
  maxMessageBytes?: number;
  /** Most readings in one array (default the contract's MAX_READINGS_PER_MESSAGE). */
  readingsPerMessage?: number;
  /** Steps simulated for every inverter before the next inverter's turn (default 12). */
  stepsPerRound?: number;
  windowPerClient?: number;
  /** Inverter-instants simulated so far, of the period's total. */
  onProgress?: (done: number, total: number) => void;
  /** Like most dataloggers, send nothing while the inverter sleeps (after its first reading of the night). */
  quietAtNight?: boolean;
  /**
   * Pauses in the replayed period, in time order: before any reading stamped after `atMs` is
   * published, everything published so far is acknowledged by the broker and `run` completes (e.g.
   * a billing month closed at its place in a replayed history). Readings a datalogger still buffers
   * (offline) are not published yet. Pauses at or after `toMs` run once everything is published.
   */
  pauses?: BackfillPause[];
}

export interface BackfillPause {
  atMs: number;
  /** `published`: readings published so far (each once, duplicates not counted). */
  run: (published: number) => Promise<void>;
}

export interface BackfillResult {
  readings: number;
  messages: number;
  malformed: number;
  seconds: number;
  /** Time spent waiting for a device's fair share (DevicePacer), ms summed over waits. */
  pacedMs: number;
  model: FleetModel;
}

/** A device's readings not yet published, serialised, with their sizes and the array's size in bytes. */
interface Pending {
  readings: string[];
  sizes: number[];
  bytes: number;
  /** A reading in it was to be sent twice (duplicate_sends): its arrays are published twice. */
  duplicate: boolean;
}

/**
 * Replays a past period as dataloggers would send it, fast-forwarded but within each device's fair
 * share (lib/telemetry/fair-share.ts): readings are packed into arrays up to `maxMessageBytes` and
 * each device's messages are paced by the same token bucket ingest enforces, so no replay needs to
 * be exempt from it.
 */
export async function runBackfill(planned: PlannedInverter[], options: BackfillOptions): Promise<BackfillResult> {
  const stepMs = options.intervalSeconds * 1000;
  const model = buildFleetModel(planned, options.seed, options.fromMs, options.toMs, options.intervalSeconds);
  const maxBytes = Math.min(options.maxMessageBytes ?? MAX_PAYLOAD_BYTES / 4, MAX_PAYLOAD_BYTES);
  const maxReadings = Math.min(options.readingsPerMessage ?? MAX_READINGS_PER_MESSAGE, MAX_READINGS_PER_MESSAGE);
  const perRound = options.stepsPerRound ?? 12;
  const window = options.windowPerClient ?? 200;
  // In-flight bytes too: a window of large arrays would otherwise hold hundreds of MB.
  const windowBytes = 32 * 1024 * 1024 * options.clients.length;
  const steps = Math.floor((options.toMs - options.fromMs) / stepMs);
  const total = steps * planned.length;
  const pending = new Map<string, Pending>(
    model.inverters.map((i) => [i.planned.spec.serial, { readings: [], sizes: [], bytes: 1, duplicate: false }]),
  );
  const clientOf = new Map(
    model.inverters.map((i, n) => [i.planned.spec.serial, options.clients[n % options.clients.length]!]),
  );
  const pacer = new DevicePacer();
  const asleep = new Set<string>();
  const offlineSerials = new Set<string>();
  let simulated = 0;
  const started = performance.now();
  let readings = 0;
  let published = 0;
  let messages = 0;
  let malformed = 0;
  let inFlight = 0;
  let inFlightBytes = 0;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;

  const publish = async (serial: string, payload: string) => {
    const bytes = Buffer.byteLength(payload);
    await pacer.take(serial, bytes);
    while (inFlight >= window * options.clients.length || inFlightBytes + bytes > windowBytes)
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    if (failure) throw failure;
    inFlight += 1;
    inFlightBytes += bytes;
    messages += 1;
    clientOf.get(serial)!.publish(telemetryTopic(serial), payload, { qos: 1 }, (error) => {
      inFlight -= 1;
      inFlightBytes -= bytes;
      if (error) failure = error;
      wake?.();
    });
  };

  /** Publishes full arrays, or everything (`all`), of a device's pending readings. */
  const flush = async (serial: string, all: boolean) => {
    const buffer = pending.get(serial)!;
    while (buffer.readings.length > 0) {
      let count = 0;
      let bytes = 1; // "[" + each reading followed by "," or "]"
      while (
        count < buffer.readings.length &&
        count < maxReadings &&
        (count === 0 || bytes + buffer.sizes[count]! + 1 <= maxBytes)
      )
        bytes += buffer.sizes[count++]! + 1;
      if (!all && count === buffer.readings.length && count < maxReadings) return; // not a full array yet
      const payload = `[${buffer.readings.slice(0, count).join(',')}]`;
      await publish(serial, payload);
      if (buffer.duplicate) await publish(serial, payload);
      buffer.readings.splice(0, count);
      buffer.sizes.splice(0, count);
      buffer.bytes -= bytes - 1;
      published += count;
    }
    buffer.duplicate = false;
  };
  const acknowledged = async () => {
    while (inFlight > 0)
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    if (failure) throw failure;
  };
  const flushOnline = async () => {
    for (const serial of pending.keys()) if (!offlineSerials.has(serial)) await flush(serial, true);
  };
  const pauses = [...(options.pauses ?? [])].sort((a, b) => a.atMs - b.atMs);
  /** The last step at or before the next pause: rounds never straddle a pause. */
  const lastStepBefore = (atMs: number) => Math.floor((atMs - options.fromMs) / stepMs);

  for (let s = 1; s <= steps; ) {
    while (pauses.length > 0 && lastStepBefore(pauses[0]!.atMs) < s && pauses[0]!.atMs < options.toMs) {
      await flushOnline();
      await acknowledged();
      await pauses.shift()!.run(published);
    }
    const last = Math.min(
      steps,
      s + perRound - 1,
      pauses.length > 0 && pauses[0]!.atMs < options.toMs ? lastStepBefore(pauses[0]!.atMs) : steps,
    );
    for (const inverter of model.inverters) {
      const serial = inverter.planned.spec.serial;
      const buffer = pending.get(serial)!;
      for (let k = s; k <= last; k++) {
        const tMs = options.fromMs + k * stepMs;
        const emission = stepAndRecord(model, inverter, tMs);
        // Losing its link, a datalogger has already sent what it read while online.
        if (emission.offline && !offlineSerials.has(serial)) await flush(serial, true);
        if (emission.offline) offlineSerials.add(serial);
        else offlineSerials.delete(serial);
        const sleeping = emission.reading.state === 'SLEEPING' || emission.reading.state === 'OFF';
        const quiet = options.quietAtNight && sleeping && asleep.has(serial);
        if (sleeping) asleep.add(serial);
        else asleep.delete(serial);
        if (!emission.unpowered && !quiet) {
          const json = JSON.stringify(emission.reading);
          const size = Buffer.byteLength(json);
          buffer.readings.push(json);
          buffer.sizes.push(size);
          buffer.bytes += size + 1;
          readings += 1;
        }
        if (emission.malformed) {
          malformed += 1;
          await publish(serial, malformedPayload(malformed - 1, tMs).payload);
        }
        buffer.duplicate ||= emission.duplicate;
        if (emission.offline) continue; // a datalogger keeps its buffer until it is back online
        if (buffer.bytes > maxBytes || buffer.readings.length >= maxReadings) await flush(serial, false);
      }
    }
    simulated += (last - s + 1) * model.inverters.length;
    options.onProgress?.(simulated, total);
    s = last + 1;
  }
  // Still offline when the period ends: the datalogger flushes when it comes back.
  for (const serial of pending.keys()) await flush(serial, true);
  await acknowledged();
  for (const pause of pauses) await pause.run(published);
  return {
    readings,
    messages,
    malformed,
    seconds: (performance.now() - started) / 1000,
    pacedMs: pacer.waitedMs,
    model,
  };
}
