// The gateway process's parts wired together: every poll reads each inverter (links in parallel,
// the units of one link in turn), appends the poll's readings to the outbox in one durable write,
// and wakes the publisher, which drains the outbox whenever the broker is reachable.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveRegisterMap } from '../../lib/registers/maps/index';
import type { GatewayConfig } from './config';
import { InverterPoller } from './inverter-poller';
import { ModbusLink } from './modbus/connection';
import { Outbox, type OutboxEntry } from './outbox';
import { Publisher, type PublisherOptions } from './publisher';
import type { CounterState } from './sunspec/counter';

export interface GatewayClock {
  /** Time stamped on readings, epoch ms. */
  wallMs(): number;
  /** Never jumps: times the counter's plausibility checks. */
  monoMs(): number;
}
export const systemClock: GatewayClock = { wallMs: () => Date.now(), monoMs: () => performance.now() };

export type Log = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

export interface GatewayOptions {
  log: Log;
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
  private readonly clock: GatewayClock;
  private timer: NodeJS.Timeout | null = null;
  private readonly countersFile: string;
  readonly counts = { polls: 0, readings: 0, registerErrors: 0 };

  constructor(
    readonly config: GatewayConfig,
    private readonly options: GatewayOptions,
  ) {
    this.clock = options.clock ?? systemClock;
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
      log: options.log,
      ...(config.broker.backoff ? { backoff: config.broker.backoff } : {}),
      ...options.publisher,
    });
  }

  /** One poll of every inverter; its readings are on disk when this resolves. */
  async pollOnce(): Promise<{ readings: number; errors: string[] }> {
    const tsMs = this.clock.wallMs();
    const monoMs = this.clock.monoMs();
    const results = await Promise.all(
      this.pollers.map(async (pollers) => {
        const out: { entries: OutboxEntry[]; errors: string[] } = { entries: [], errors: [] };
        for (const poller of pollers) {
          const { reading, errors } = await poller.poll(tsMs, monoMs);
          if (reading) out.entries.push({ serial: poller.config.serial, reading });
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
    this.options.log('debug', `poll at ${new Date(tsMs).toISOString()}: ${entries.length} readings kept`);
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
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.publisher.stop();
    for (const link of this.links) await link.close();
    this.outbox.close();
  }
}
