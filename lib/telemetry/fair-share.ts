// Each device's fair share of ingest, stated from the telemetry contract, and the one token bucket
// that both sides use: ingest enforces it (a message over it is rejected unparsed as `rate_limited`,
// ingest/README.md "Fair share"), and every publisher that sends a device's backlog at once (a
// gateway draining its outbox, a datalogger flushing its buffer, the simulator's fast-forwarded
// replays) paces itself within it, so a replay is not exempt from the share but simply inside it.

import { MAX_PAYLOAD_BYTES } from './contract';

export interface FairShare {
  /** Sustained messages per second per device, and how many may come at once. */
  messagesPerSecond: number;
  messageBurst: number;
  /** Sustained payload bytes per second per device, and how many may come at once. */
  bytesPerSecond: number;
  byteBurst: number;
}

/**
 * What a real inverter never needs to exceed: it reports every 1-5 minutes (the drills every 2 s)
 * and, after an outage, flushes its buffered readings as arrays of up to MAX_PAYLOAD_BYTES; 5
 * messages/s leaves room for commissioning and fast test fleets, a burst of 300 messages or 8 MiB
 * (eight arrays at the payload limit, ~40,000 readings) for a flush, and 64 KiB/s (~300 readings a
 * second, a year of 5-minute readings in six minutes) for a longer backlog.
 */
export const DEVICE_FAIR_SHARE: FairShare = {
  messagesPerSecond: 5,
  messageBurst: 300,
  bytesPerSecond: 65_536,
  byteBurst: 8 * MAX_PAYLOAD_BYTES,
};

/**
 * The broker's share (ops/broker/fair-share-plugin.c, configured by ops/setup.sh): four times ingest's,
 * judged as the broker receives each message. It is the outer guard that keeps what one device can
 * put into ingest's queue on the broker small (a flooder's 1 MB messages queued there delayed every
 * other device's readings and, at the queue's limit, made the broker drop them after acknowledging
 * them); ingest judges the share itself precisely and counts it by serial. Four times, because
 * ingest judges at receipt, after the broker's queue has brought a device's messages closer together.
 */
export const BROKER_FAIR_SHARE: FairShare = {
  messagesPerSecond: DEVICE_FAIR_SHARE.messagesPerSecond * 4,
  messageBurst: DEVICE_FAIR_SHARE.messageBurst * 4,
  bytesPerSecond: DEVICE_FAIR_SHARE.bytesPerSecond * 4,
  byteBurst: DEVICE_FAIR_SHARE.byteBurst * 4,
};

/**
 * What a publisher paces a device's backlog to: four fifths of the rates and half the bursts. Ingest
 * judges a message when it receives it, not when it was sent, so a backlog on the broker delivers
 * a device's paced messages closer together; the other half of the burst absorbs that (30 s of
 * queueing at the message rate, a minute at the byte rate) and the fifth of the rate refills it.
 */
export const PUBLISHER_PACE: FairShare = {
  messagesPerSecond: (DEVICE_FAIR_SHARE.messagesPerSecond * 4) / 5,
  messageBurst: DEVICE_FAIR_SHARE.messageBurst / 2,
  bytesPerSecond: (DEVICE_FAIR_SHARE.bytesPerSecond * 4) / 5,
  byteBurst: DEVICE_FAIR_SHARE.byteBurst / 2,
};

/** The most of a receiver's own absence forgiven at once (see `forgive`): an hour of every device's share. */
export const MAX_FORGIVEN_SECONDS = 3600;

interface Bucket {
  messages: number;
  bytes: number;
  atMs: number;
  /** The forgiveness (`forgive`) this bucket has had. */
  forgiven: number;
}

/** A token bucket of messages and of bytes per device (bounded state: full buckets are pruned). */
export class FairShareLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private grace = { messages: 0, bytes: 0, untilMs: 0, round: 0 };

  constructor(readonly share: FairShare = DEVICE_FAIR_SHARE) {}

  /**
   * The receiver took nothing for `seconds` (it was down, stalled, cut off from the broker, or held
   * its acknowledgements): the broker queued what devices published meanwhile and now delivers it
   * at once, which is not a flood. Each device may use that much of its sustained share once, on
   * top of its burst, while the backlog arrives (a minute, or as long as the absence). Capped at
   * MAX_FORGIVEN_SECONDS, so a flooder gains at most that once per absence.
   */
  forgive(seconds: number, nowMs: number): void {
    const s = Math.min(seconds, MAX_FORGIVEN_SECONDS);
    if (!(s > 0)) return;
    this.grace = {
      messages: s * this.share.messagesPerSecond,
      bytes: s * this.share.bytesPerSecond,
      untilMs: nowMs + Math.max(60_000, s * 1000),
      round: this.grace.round + 1,
    };
  }

  private refill(serial: string, nowMs: number): Bucket {
    const s = this.share;
    const b = this.buckets.get(serial) ?? { messages: s.messageBurst, bytes: s.byteBurst, atMs: nowMs, forgiven: 0 };
    this.buckets.set(serial, b);
    const seconds = Math.max(0, nowMs - b.atMs) / 1000;
    // Refilling stops at the burst; what forgiveness gave above it stays until it is used.
    if (b.messages < s.messageBurst) b.messages = Math.min(s.messageBurst, b.messages + seconds * s.messagesPerSecond);
    if (b.bytes < s.byteBurst) b.bytes = Math.min(s.byteBurst, b.bytes + seconds * s.bytesPerSecond);
    b.atMs = Math.max(b.atMs, nowMs);
    if (b.forgiven !== this.grace.round && nowMs < this.grace.untilMs) {
      b.messages += this.grace.messages;
      b.bytes += this.grace.bytes;
      b.forgiven = this.grace.round;
    }
    return b;
  }

  /** Null when the message is within the device's share (and takes it), else why not. */
  admit(serial: string, payloadBytes: number, nowMs: number): string | null {
    const s = this.share;
    const b = this.refill(serial, nowMs);
    if (b.messages < 1)
      return `over the device's fair share of ${s.messagesPerSecond} message(s)/s (bursts of ${s.messageBurst})`;
    if (b.bytes < payloadBytes)
      return `over the device's fair share of ${s.bytesPerSecond} bytes/s (bursts of ${s.byteBurst} bytes)`;
    b.messages -= 1;
    b.bytes -= payloadBytes;
    return null;
  }

  /** How long until a message of `payloadBytes` fits the device's share (0: now). */
  waitMs(serial: string, payloadBytes: number, nowMs: number): number {
    const s = this.share;
    const b = this.refill(serial, nowMs);
    const bytes = Math.min(payloadBytes, s.byteBurst); // a larger one could never fit
    const forMessage = b.messages >= 1 ? 0 : ((1 - b.messages) / s.messagesPerSecond) * 1000;
    const forBytes = b.bytes >= bytes ? 0 : ((bytes - b.bytes) / s.bytesPerSecond) * 1000;
    return Math.ceil(Math.max(forMessage, forBytes));
  }

  /** Forgets devices whose share is whole again (not while a forgiveness lasts: it would be given twice). */
  prune(nowMs: number): void {
    const s = this.share;
    if (nowMs < this.grace.untilMs) return;
    for (const [serial, b] of this.buckets) {
      const seconds = (nowMs - b.atMs) / 1000;
      if (
        b.messages + seconds * s.messagesPerSecond >= s.messageBurst &&
        b.bytes + seconds * s.bytesPerSecond >= s.byteBurst
      )
        this.buckets.delete(serial);
    }
  }

  get size(): number {
    return this.buckets.size;
  }
}

/**
 * Paces a publisher's messages per device within PUBLISHER_PACE: `take` resolves once the message
 * fits (at once while the device is within its burst) and counts it. Messages larger than the
 * contract's payload limit are not this pacer's concern (ingest rejects them whatever their pace).
 */
export class DevicePacer {
  private readonly limiter: FairShareLimiter;
  /** Total time spent waiting, ms (for progress output and benchmarks). */
  waitedMs = 0;

  constructor(share: FairShare = PUBLISHER_PACE) {
    this.limiter = new FairShareLimiter(share);
  }

  async take(serial: string, payloadBytes: number): Promise<void> {
    const bytes = Math.min(payloadBytes, this.limiter.share.byteBurst);
    for (;;) {
      const wait = this.limiter.waitMs(serial, bytes, Date.now());
      if (wait === 0 && this.limiter.admit(serial, bytes, Date.now()) === null) break;
      this.waitedMs += Math.max(1, wait);
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, wait)));
    }
    if (this.limiter.size > 10_000) this.limiter.prune(Date.now());
  }
}
