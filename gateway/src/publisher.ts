// Drains the outbox to the broker over MQTT/TLS: oldest first, as the contract's batch arrays (one
// message per serial and stretch of readings), QoS 1. A stretch leaves the outbox only when ingest
// confirmed every message in it journaled (end to end: each message asks for a confirmation on its
// serial's stored topic, lib/telemetry/contract.ts), not at the broker's PUBACK: Mosquitto
// acknowledges before it persists, so a broker crash loses what it acknowledged and had not yet
// delivered. What is unconfirmed when the connection ends is sent again on the next one (ingest
// stores a replayed reading once); so is a stretch left unconfirmed while later ones were confirmed
// (a message lost on the way). Where the broker refuses the confirmations' subscription (a role
// setup has not brought up to date), PUBACK is the end, as before. The broker's certificate is verified against the
// configured CA. Each serial's messages are paced within the device's fair share (a long outage's
// outbox would otherwise arrive faster than ingest accepts from one device, and the broker has
// already acknowledged what ingest turns away), and the whole outbox within the gateway's share of
// the fleet's catch-up budget (src/fleet.ts). Lost connections are retried with exponential
// back-off and full jitter over a window sized to the fleet, so thousands of gateways coming back
// after a broker restart spread out instead of arriving at once.
import mqtt, { type MqttClient } from 'mqtt';
import { randomBytes } from 'node:crypto';
import { type StoredConfirmation, storedTopic, telemetryTopic } from '../../lib/telemetry/contract';
import { DevicePacer } from '../../lib/telemetry/fair-share';
import { endClient } from '../../lib/mqtt/end-client';
import { backoffDelay, ReadingPacer } from './fleet';
import type { Outbox, OutboxEntry, Position } from './outbox';

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
  /** The serials whose confirmations it reads; none: PUBACK is the end (no ingest to confirm). */
  serials?: string[];
  /** A stretch unconfirmed this long while later ones were confirmed is sent again (default 60 s). */
  confirmTimeoutMs?: number;
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

/**
 * How long a stop waits for the broker to acknowledge what is under way (PUBACKs, the confirmations'
 * SUBACK): within the unit's TimeoutStopSec (20 s), beyond which systemd kills the process.
 */
export const STOP_GRACE_MS = 5000;

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

/** Outbox readings published together: they leave the outbox once acknowledged and confirmed. */
interface Stretch {
  to: Position;
  readings: number;
  /** Ids of its messages ingest has not confirmed yet. */
  waiting: Set<string>;
  /** When the broker acknowledged every message of it (null: not yet). */
  ackedAtMs: number | null;
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
  /** Counters for the health file and the benchmark; `resent`: readings sent again, unconfirmed. */
  readonly counts = {
    published: 0,
    messages: 0,
    connects: 0,
    connectFailures: 0,
    untimedDropped: 0,
    confirmed: 0,
    resent: 0,
  };
  /** Ingest confirms on this connection (the broker granted the confirmations' subscription). */
  confirming = false;
  /** The connection's SUBSCRIBE was answered: publishing may start (a confirmation sent before would be missed). */
  private ready = false;
  /** Published, not yet confirmed, oldest first; `sentTo` is where the next publication starts. */
  private stretches: Stretch[] = [];
  private sentTo: Position | null = null;
  private readonly stretchOf = new Map<string, Stretch>();
  /** Bumped when the unconfirmed are to be sent again: a flush under way does not go on from its stretch. */
  private generation = 0;
  private lastConfirmedAtMs = 0;
  private nextId = 0;
  /** Ids unique to this run: a late confirmation of an earlier run's message confirms nothing now. */
  private readonly runTag = randomBytes(4).toString('hex');
  private checkTimer: NodeJS.Timeout | null = null;
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

  /** Readings the broker acknowledged that ingest has not confirmed yet. */
  get unconfirmedReadings(): number {
    return this.stretches.reduce((n, s) => n + (s.ackedAtMs === null ? 0 : s.readings), 0);
  }

  start(): void {
    this.stopped = false;
    this.stopping = new AbortController();
    const timeoutMs = this.options.confirmTimeoutMs ?? 60_000;
    this.checkTimer = setInterval(() => this.resendLost(timeoutMs), Math.max(250, timeoutMs / 4));
    this.checkTimer.unref();
    this.connect();
  }

  /** Everything unconfirmed is published again, from the oldest (the outbox still holds it). */
  private sendAgain(): void {
    this.counts.resent += this.unconfirmedReadings;
    this.generation++;
    this.stretches = [];
    this.stretchOf.clear();
    this.sentTo = null;
  }

  /** The oldest stretch unconfirmed for `timeoutMs` while later messages were confirmed: lost on the way. */
  private resendLost(timeoutMs: number): void {
    const oldest = this.stretches[0];
    if (!oldest?.ackedAtMs || Date.now() - oldest.ackedAtMs < timeoutMs || this.lastConfirmedAtMs <= oldest.ackedAtMs)
      return;
    this.log(
      'warn',
      `${this.unconfirmedReadings} readings acknowledged by the broker ` +
        `${Math.round((Date.now() - oldest.ackedAtMs) / 1000)} s ago are not confirmed stored ` +
        'while later ones are: sending them again',
    );
    this.sendAgain();
    this.wake();
  }

  /** Ingest journaled these messages. */
  private confirmed(ids: readonly string[]): void {
    this.lastConfirmedAtMs = Date.now();
    for (const id of ids) {
      this.stretchOf.get(id)?.waiting.delete(id);
      this.stretchOf.delete(id);
    }
    this.settle();
  }

  /** Stretches wholly acknowledged and confirmed leave the outbox, in order. */
  private settle(): void {
    let freed = false;
    while (this.stretches[0]?.ackedAtMs && this.stretches[0].waiting.size === 0) {
      const done = this.stretches.shift()!;
      this.outbox.ack(done.to, done.readings);
      this.counts.confirmed += done.readings;
      freed = true;
    }
    if (freed) this.wake();
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
      this.ready = false;
      this.subscribeConfirmations(client);
    });
    client.on('message', (_topic, payload) => {
      try {
        const { stored } = JSON.parse(payload.toString()) as StoredConfirmation;
        if (Array.isArray(stored)) this.confirmed(stored.filter((id) => typeof id === 'string'));
      } catch {
        this.log('warn', 'a confirmation that is not JSON was ignored');
      }
    });
    client.on('error', (error) => {
      this.lastError = error.message;
    });
    client.once('close', () => {
      if (this.client !== client) return;
      this.ready = false;
      // What this connection published and ingest has not confirmed may be lost with the broker's
      // memory (a crash): the next connection sends it again.
      this.sendAgain();
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

  /**
   * Subscribes to its serials' confirmations, then starts flushing. Refused (a role not brought up
   * to date by the platform's setup) or without serials, PUBACK is the end.
   */
  private subscribeConfirmations(client: MqttClient): void {
    const serials = this.options.serials ?? [];
    const ready = (confirming: boolean) => {
      this.confirming = confirming;
      this.ready = true;
      this.wake();
    };
    if (serials.length === 0) {
      ready(false);
      return;
    }
    client.subscribe(serials.map(storedTopic), { qos: 1 }, (error, granted) => {
      if (this.client !== client) return;
      const ok = !error && granted?.length === serials.length && granted.every((g) => g.qos <= 2);
      if (!ok)
        this.log(
          'warn',
          `the broker refuses ingest's confirmations (${error?.message ?? 'subscription not authorised'}): ` +
            "readings leave the outbox at the broker's acknowledgement, and a broker crash can lose what it " +
            "acknowledged; the platform's setup gives this gateway's role the right to read them",
        );
      ready(ok);
    });
  }

  /** Something was appended (or the link came back): flush when connected. */
  wake(): void {
    if (this.stopped || !this.connected || !this.ready) return;
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
      if (!client?.connected || !this.ready) return;
      const confirming = this.confirming;
      // At most a few stretches unconfirmed: while ingest is away the backlog waits on this disk, not in the broker's memory.
      if (confirming && this.stretches.length >= 4) return;
      const generation = this.generation;
      const next = this.outbox.peek(max * 4, this.sentTo ?? undefined);
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
      const stretch: Stretch = { to: next.to, readings: next.entries.length, waiting: new Set(), ackedAtMs: null };
      if (confirming) {
        this.stretches.push(stretch);
        this.sentTo = next.to;
      }
      const acks: Promise<unknown>[] = [];
      try {
        for (const b of batches) {
          const payload = JSON.stringify(b.readings);
          await this.catchUp?.take(b.readings.length, this.stopping.signal);
          await this.pacer.take(b.serial, Buffer.byteLength(payload));
          // The connection ended (all of it goes again), or the gateway is stopping (the outbox keeps it).
          if (generation !== this.generation || this.stopped) break;
          let properties = {};
          if (confirming) {
            const id = `${this.runTag}-${this.nextId++}`;
            stretch.waiting.add(id);
            this.stretchOf.set(id, stretch);
            properties = { responseTopic: storedTopic(b.serial), correlationData: Buffer.from(id) };
          }
          acks.push(client.publishAsync(telemetryTopic(b.serial), payload, { qos: 1, properties }));
        }
      } catch (error) {
        // Stopped while pacing: the outbox keeps this stretch (what was sent may come again: harmless).
        for (const ack of acks) ack.catch(() => undefined);
        throw error;
      }
      await Promise.all(acks);
      this.counts.published += publishable.length;
      this.counts.messages += acks.length;
      // The connection ended, or a stop cut the stretch short: the outbox keeps it.
      if (generation !== this.generation || acks.length < batches.length) continue;
      if (!confirming) this.outbox.ack(next.to, next.entries.length);
      else {
        stretch.ackedAtMs = Date.now();
        this.settle(); // its confirmations may have come before the last PUBACK
      }
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

  /**
   * Ends the connection: gracefully while the broker answers, within `graceMs`, so the publications
   * under way get their PUBACK and their confirmations may still arrive; never waiting for answers a
   * lost connection will not bring (mqtt.js's graceful end alone then waited for ever). What ingest
   * has not confirmed stays in the outbox for the next start.
   */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    this.stopped = true;
    this.stopping.abort(new Error('stopping'));
    if (this.timer) clearTimeout(this.timer);
    if (this.checkTimer) clearInterval(this.checkTimer);
    const client = this.client;
    this.client = null; // a flush under way publishes nothing more
    if (client) await endClient(client, graceMs);
  }
}
