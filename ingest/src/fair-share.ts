// Each device's fair share of ingest, from the telemetry contract: a reading every few seconds at
// the most (real inverters report every 1-5 minutes; the drills every 2 s) and, after an outage, its
// buffered readings flushed as arrays in a burst. Mosquitto 2.0 has no per-client publish rate
// (mosquitto.conf(5): limits on packets, queues and memory, none on rates), so ingest enforces it,
// before it parses anything: a message over its device's share is rejected as `rate_limited`
// (counted per serial, one record per the rejection budget) at the cost of a topic split, so one
// device flooding cannot take ingest's time from the others.

export interface FairShare {
  /** Sustained messages per second per device, and how many may come at once. */
  messagesPerSecond: number;
  messageBurst: number;
  /** Sustained payload bytes per second per device, and how many may come at once. */
  bytesPerSecond: number;
  byteBurst: number;
}

interface Bucket {
  messages: number;
  bytes: number;
  atMs: number;
}

export class FairShareLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly share: FairShare) {}

  /** Null when the message is within the device's share (and takes it), else why not. */
  admit(serial: string, payloadBytes: number, nowMs: number): string | null {
    const s = this.share;
    const b = this.buckets.get(serial) ?? { messages: s.messageBurst, bytes: s.byteBurst, atMs: nowMs };
    this.buckets.set(serial, b);
    const seconds = Math.max(0, nowMs - b.atMs) / 1000;
    b.messages = Math.min(s.messageBurst, b.messages + seconds * s.messagesPerSecond);
    b.bytes = Math.min(s.byteBurst, b.bytes + seconds * s.bytesPerSecond);
    b.atMs = nowMs;
    if (b.messages < 1)
      return `over the device's fair share of ${s.messagesPerSecond} message(s)/s (bursts of ${s.messageBurst})`;
    if (b.bytes < payloadBytes)
      return `over the device's fair share of ${s.bytesPerSecond} bytes/s (bursts of ${s.byteBurst} bytes)`;
    b.messages -= 1;
    b.bytes -= payloadBytes;
    return null;
  }

  /** Forgets devices whose share is whole again (bounded state). */
  prune(nowMs: number): void {
    const s = this.share;
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
