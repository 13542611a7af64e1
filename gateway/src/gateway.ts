// The gateway process's parts wired together: every poll reads each inverter (links in parallel,
// the units of one link in turn), appends the poll's readings to the outbox in one durable write,
// and wakes the publisher, which drains the outbox whenever the broker is reachable.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveRegisterMap } from '../../lib/registers/maps/index';
import { type GatewayConfig, type GatewayConfigFile, withDefaults } from './config';
import { catchUpPace, reconnectWindowMs } from './fleet';
import { InverterPoller } from './inverter-poller';
import { ModbusLink } from './modbus/connection';
import { Outbox, type OutboxEntry } from './outbox';
import { Publisher, type PublisherOptions } from './publisher';
import type { CounterState } from './sunspec/counter';
import {
  bootId,
  httpsDateSource,
  monotonicMs,
  ntpSyncedSource,
  type TimeSource,
  TimeKeeper,
  trustedClockSource,
} from './time';

/** systemd-timesyncd's flag: present while the system clock is NTP-synchronised. */
export const TIMESYNCD_SYNCED_FILE = '/run/systemd/timesync/synchronized';

function timeSourceOf(config: GatewayConfig, wall: () => number, mono: () => number): TimeSource {
  const time = config.time ?? { source: 'ntp' as const };
  if (time.source === 'system') return trustedClockSource(wall, mono);
  if (time.source === 'https')
    return httpsDateSource(time.url, readFileSync(time.caFile ?? config.broker.caFile), mono);
  return ntpSyncedSource(time.syncedFile ?? TIMESYNCD_SYNCED_FILE, wall, mono);
}

/** A clock given by the caller: a test's virtual time, the simulated clock of a bench. */
export interface GatewayClock {
  /** Time stamped on readings, epoch ms. */
  wallMs(): number;
  /** Never jumps: times the counter's plausibility checks. */
  monoMs(): number;
  /** false: the box's own clock, not vouched for (the time then comes from the configured source). */
  trusted?: boolean;
}

export type Log = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

export interface GatewayOptions {
  log: Log;
  /** Trusted as is; without it, the time comes from the configuration's source (src/time.ts). */
  clock?: GatewayClock;
  /** Real ms between polls (default pollSeconds; shorter when the clock runs simulated time). */
  pollIntervalMs?: number;
  /** Overrides of the publisher's settings (tests: back-off, jitter). */
  publisher?: Partial<PublisherOptions>;
}

export class Gateway {
  readonly outbox: Outbox;
  readonly publisher: Publisher;
  private readonly links: ModbusLink[] = [];
  private readonly pollers: InverterPoller[][] = [];
  readonly time: TimeKeeper;
  private readonly monoMs: () => number;
  private readonly wallMs: () => number;
  private timer: NodeJS.Timeout | null = null;
  private timeTimer: NodeJS.Timeout | null = null;
  private readonly countersFile: string;
  readonly counts = { polls: 0, readings: 0, registerErrors: 0 };

  /** The file's settings with the defaults filled in. */
  readonly config: GatewayConfig;

  constructor(
    file: GatewayConfigFile,
    private readonly options: GatewayOptions,
  ) {
    const config = withDefaults(file);
    this.config = config;
    this.monoMs = options.clock?.monoMs ?? monotonicMs;
    this.wallMs = options.clock?.wallMs ?? Date.now;
    this.time = new TimeKeeper(
      options.clock && options.clock.trusted !== false
        ? trustedClockSource(options.clock.wallMs, options.clock.monoMs, 'the given clock')
        : timeSourceOf(config, this.wallMs, this.monoMs),
      bootId(),
      this.monoMs,
      options.log,
      join(config.outbox.dir, 'time-anchor.json'),
    );
    this.outbox = Outbox.open({
      dir: config.outbox.dir,
      maxBytes: config.outbox.maxBytes,
      segmentBytes: Math.min(1 << 20, Math.floor(config.outbox.maxBytes / 8)),
      onWarning: (message) => options.log('warn', message),
    });
    this.countersFile = join(config.outbox.dir, 'counters.json');
    const counters: Record<string, CounterState> = existsSync(this.countersFile)
      ? JSON.parse(readFileSync(this.countersFile, 'utf8'))
      : {};
    for (const linkConfig of config.links) {
      const { inverters, ...settings } = linkConfig;
      const link = new ModbusLink(settings);
      this.links.push(link);
      this.pollers.push(
        inverters.map(
          (inverter) =>
            new InverterPoller(
              inverter,
              link.unit(inverter.unitId),
              {
                // A restart keeps the wrap offset; the time base of the last read is this process's.
                ...(counters[inverter.serial]?.acc ? { acc: counters[inverter.serial]!.acc } : {}),
              },
              inverter.map ? resolveRegisterMap(inverter.map) : undefined,
            ),
        ),
      );
    }
    this.publisher = new Publisher(this.outbox, {
      broker: {
        url: config.broker.url,
        ca: readFileSync(config.broker.caFile),
        username: config.broker.username,
        password: config.broker.password,
        clientId: `gateway-${config.gatewayId}`,
      },
      serials: config.links.flatMap((l) => l.inverters.map((i) => i.serial)),
      log: options.log,
      timeOf: (entry) => {
        if (!entry.untimed) return entry;
        const ts = this.time.resolve(entry.untimed);
        return ts === null || ts === undefined ? ts : { serial: entry.serial, reading: { ...entry.reading, ts } };
      },
      backoff: this.backoff,
      catchUp: this.catchUpPace,
      ...options.publisher,
    });
  }

  /** Reconnect back-off: the configuration's, over the fleet's window (src/fleet.ts). */
  get backoff(): { initialMs: number; maxMs: number; windowMs: number } {
    return {
      initialMs: 1000,
      maxMs: 300_000,
      ...this.config.broker.backoff,
      windowMs: reconnectWindowMs(this.config.fleet),
    };
  }

  /** The spread of its first reconnect attempt, ms: the fleet's window within the back-off's bounds. */
  get reconnectSpreadMs(): number {
    const { initialMs, maxMs, windowMs } = this.backoff;
    return Math.min(maxMs, Math.max(initialMs, windowMs));
  }

  /** Its share of the fleet's catch-up (src/fleet.ts). */
  get catchUpPace(): { readingsPerSecond: number; burstReadings: number } {
    const inverters = this.config.links.reduce((n, l) => n + l.inverters.length, 0);
    return catchUpPace(this.config.fleet, inverters, this.options.pollIntervalMs ?? this.config.pollSeconds * 1000);
  }

  /** One poll of every inverter; its readings are on disk when this resolves. */
  async pollOnce(): Promise<{ readings: number; errors: string[] }> {
    const stamp = this.time.now();
    // Untimed (the time is not known yet): stamped at flush; meanwhile the untrusted clock's value.
    const tsMs = 'ts' in stamp ? stamp.ts : this.wallMs();
    const untimed = 'untimed' in stamp ? { untimed: stamp.untimed } : {};
    const monoMs = this.monoMs();
    const results = await Promise.all(
      this.pollers.map(async (pollers) => {
        const out: { entries: OutboxEntry[]; errors: string[] } = { entries: [], errors: [] };
        for (const poller of pollers) {
          const { reading, errors } = await poller.poll(tsMs, monoMs);
          if (reading) out.entries.push({ serial: poller.config.serial, reading, ...untimed });
          out.errors.push(...errors);
        }
        return out;
      }),
    );
    const entries = results.flatMap((r) => r.entries);
    const errors = results.flatMap((r) => r.errors);
    this.outbox.append(entries);
    this.counts.polls++;
    this.counts.readings += entries.length;
    this.counts.registerErrors += errors.length;
    for (const error of errors) this.options.log('warn', error);
    // After the append: a reading logged here is on disk (the outage test counts these lines).
    this.options.log(
      'debug',
      `poll at ${new Date(tsMs).toISOString()}: ${entries.length} readings kept` +
        `${'untimed' in stamp ? ` (time not trusted yet: ${this.time.lastProblem ?? 'no sample'}; held)` : ''}`,
    );
    this.saveCounters();
    this.publisher.wake();
    return { readings: entries.length, errors };
  }

  /** Only the accumulators' wrap offsets matter across a restart; rename keeps the file whole. */
  private saveCounters(): void {
    const counters = Object.fromEntries(this.pollers.flat().map((p) => [p.config.serial, { acc: p.counter.acc }]));
    writeFileSync(`${this.countersFile}.tmp`, JSON.stringify(counters), { mode: 0o600 });
    renameSync(`${this.countersFile}.tmp`, this.countersFile);
  }

  /** A remote time source is asked at start, then every resyncSeconds (every 30 s until it answers). */
  private syncTime(): void {
    if (this.time.source.kind !== 'remote') return;
    const every = (this.config.time?.source === 'https' ? (this.config.time.resyncSeconds ?? 600) : 600) * 1000;
    void this.time.sync().then((ok) => {
      if (ok) this.publisher.wake();
      else this.options.log('warn', `time: ${this.time.lastProblem}; readings are kept until the time is known`);
      if (this.timer !== null) this.timeTimer = setTimeout(() => this.syncTime(), ok ? every : Math.min(every, 30_000));
    });
  }

  start(): void {
    this.publisher.start();
    const every = this.options.pollIntervalMs ?? this.config.pollSeconds * 1000;
    const tick = () => {
      void this.pollOnce()
        .catch((error: Error) => this.options.log('error', `poll failed: ${error.message}`))
        .finally(() => {
          if (this.timer !== null) this.timer = setTimeout(tick, every - (Date.now() % every));
        });
    };
    this.timer = setTimeout(tick, 0);
    this.syncTime();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.timeTimer) clearTimeout(this.timeTimer);
    this.timer = null;
    await this.publisher.stop();
    for (const link of this.links) await link.close();
    this.outbox.close();
  }
}
