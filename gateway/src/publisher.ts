// Drains the outbox to the broker over MQTT/TLS: oldest first, as the contract's batch arrays (one
// message per serial and stretch of readings), QoS 1; a stretch leaves the outbox only when every
// message in it was acknowledged (PUBACK). The broker's certificate is verified against the
// configured CA. Each serial's messages are paced within the device's fair share (a long outage's
// outbox would otherwise arrive faster than ingest accepts from one device, and the broker has
// already acknowledged what ingest turns away), and the whole outbox within the gateway's share of
// the fleet's catch-up budget (src/fleet.ts). Lost connections are retried with exponential
// back-off and full jitter over a window sized to the fleet, so thousands of gateways coming back
// after a broker restart spread out instead of arriving at once.
import mqtt, { type MqttClient } from 'mqtt';
import { telemetryTopic } from '../../lib/telemetry/contract';
import { DevicePacer } from '../../lib/telemetry/fair-share';
import { backoffDelay, ReadingPacer } from './fleet';
import type { Outbox, OutboxEntry } from './outbox';

export interface BrokerConfig {
  url: string;
  /** PEM of the CA that signed the broker's certificate. */
  ca: Buffer | string;
  username: string;
  password: string;
  clientId: string;
}
export interface PublisherOptions {
  broker: BrokerConfig;
  /** Readings per published array. */
  batchReadings?: number;
  /** Reconnect back-off; windowMs: the fleet's reconnect window (src/fleet.ts), the least base. */
  backoff?: { initialMs: number; maxMs: number; windowMs?: number };
  /** The gateway's share of the fleet's catch-up budget (src/fleet.ts); unpaced without it. */
  catchUp?: { readingsPerSecond: number; burstReadings: number };
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** For tests: the random source of the jitter. */
  random?: () => number;
  /**
   * An entry as it may be published: stamped with its time (an entry read before the time was
   * known), null when it can never be timed (dropped, counted), undefined while the time is not
   * known yet (the flush waits).
   */
  timeOf?: (entry: OutboxEntry) => OutboxEntry | null | undefined;
}

/** Consecutive entries of one serial become one array message, in the outbox's order. */
export function batchesBySerial(
  entries: OutboxEntry[],
  max: number,
): { serial: string; readings: OutboxEntry['reading'][] }[] {
  const batches: { serial: string; readings: OutboxEntry['reading'][] }[] = [];
  const open = new Map<string, { serial: string; readings: OutboxEntry['reading'][] }>();
  for (const { serial, reading } of entries) {
    let batch = open.get(serial);
    if (!batch || batch.readings.length >= max) {
      batch = { serial, readings: [] };
      open.set(serial, batch);
      batches.push(batch);
    }
    batch.readings.push(reading);
  }
  return batches;
}

export class Publisher {
  private client: MqttClient | null = null;
  private stopped = false;
  private attempt = 0;
  private flushing: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly pacer = new DevicePacer();
  private readonly catchUp: ReadingPacer | null;
  /** Aborted by stop(): a flush waiting on the catch-up pace ends at once (the outbox keeps the rest). */
  private stopping = new AbortController();
  /** Counters for the health file and the benchmark. */
  readonly counts = { published: 0, messages: 0, connects: 0, connectFailures: 0, untimedDropped: 0 };
  /** The oldest readings wait for the time to be known. */
  waitingForTime = false;
  lastError: string | null = null;

  constructor(
    private readonly outbox: Outbox,
    private readonly options: PublisherOptions,
  ) {
    const c = options.catchUp;
    this.catchUp = c ? new ReadingPacer(c.readingsPerSecond, c.burstReadings) : null;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  start(): void {
    this.stopped = false;
    this.stopping = new AbortController();
    this.connect();
  }

  private log(level: 'info' | 'warn' | 'error', message: string) {
    this.options.log?.(level, message);
  }

  private connect(): void {
    if (this.stopped) return;
    const { broker } = this.options;
    const client = mqtt.connect(broker.url, {
      ca: broker.ca,
      rejectUnauthorized: true,
      username: broker.username,
      password: broker.password,
      clientId: broker.clientId,
      protocolVersion: 5,
      clean: true,
      reconnectPeriod: 0, // our own back-off below
      connectTimeout: 15_000,
      keepalive: 60,
      // mqtt-packet otherwise pre-builds 65,536 two-byte Buffers (~6.5 MB of heap, a third of the box's).
      writeCache: false,
    });
    this.client = client;
    client.once('connect', () => {
      this.attempt = 0;
      this.counts.connects++;
      this.lastError = null;
      this.log('info', `connected to ${broker.url}`);
      this.wake();
    });
    client.on('error', (error) => {
      this.lastError = error.message;
    });
    client.once('close', () => {
      if (this.client !== client) return;
      client.removeAllListeners();
      client.on('error', () => undefined);
      client.end(true);
      this.client = null;
      if (this.stopped) return;
      this.counts.connectFailures++;
      const delay = backoffDelay(
        this.attempt++,
        this.options.backoff ?? { initialMs: 1000, maxMs: 300_000 },
        this.options.random,
      );
      this.log(
        'warn',
        `broker ${broker.url} unreachable (${this.lastError ?? 'connection closed'}); retrying in ${delay} ms`,
      );
      this.timer = setTimeout(() => this.connect(), delay);
    });
  }

  /** Something was appended (or the link came back): flush when connected. */
  wake(): void {
    if (!this.connected) return;
    if (this.flushing) {
      this.again = true;
      return;
    }
    this.flushing = this.flush()
      .catch((error: Error) => this.log('warn', `flush interrupted: ${error.message}`))
      .finally(() => {
        this.flushing = null;
        if (this.again && this.connected) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async flush(): Promise<void> {
    const max = this.options.batchReadings ?? 500;
    for (;;) {
      const client = this.client;
      if (!client?.connected) return;
      const next = this.outbox.peek(max * 4);
      if (!next) return;
      const timed: (OutboxEntry | null | undefined)[] = this.options.timeOf
        ? next.entries.map(this.options.timeOf)
        : next.entries;
      this.waitingForTime = timed.includes(undefined);
      if (this.waitingForTime) return;
      const publishable = timed.filter((e): e is OutboxEntry => e !== null && e !== undefined);
      if (publishable.length < timed.length) {
        this.counts.untimedDropped += timed.length - publishable.length;
        this.log(
          'warn',
          `${timed.length - publishable.length} readings were read in an earlier boot before the time was known: ` +
            `they cannot be placed in time and are dropped (the next reading's counter carries their energy)`,
        );
      }
      const batches = batchesBySerial(publishable, max);
      const acks: Promise<unknown>[] = [];
      try {
        for (const b of batches) {
          const payload = JSON.stringify(b.readings);
          await this.catchUp?.take(b.readings.length, this.stopping.signal);
          await this.pacer.take(b.serial, Buffer.byteLength(payload));
          acks.push(client.publishAsync(telemetryTopic(b.serial), payload, { qos: 1 }));
        }
      } catch (error) {
        // Stopped while pacing: the outbox keeps this stretch (what was sent may come again: harmless).
        for (const ack of acks) ack.catch(() => undefined);
        throw error;
      }
      await Promise.all(acks);
      this.outbox.ack(next.to, next.entries.length);
      this.counts.published += publishable.length;
      this.counts.messages += batches.length;
    }
  }

  /** Resolves once the outbox is empty or `timeoutMs` passed; returns whether it is empty. */
  async drained(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (this.outbox.stats().pendingReadings === 0 && !this.flushing) return true;
      this.wake();
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.outbox.stats().pendingReadings === 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort(new Error('stopping'));
    if (this.timer) clearTimeout(this.timer);
    await this.flushing;
    const client = this.client;
    this.client = null;
    if (client) await client.endAsync().catch(() => undefined);
  }
}
