// How much of the journal is not yet stored in InfluxDB, in bytes and in age. The age comes from
// samples of (append position, time) taken at most every `sampleEveryMs`, so appending stays cheap
// and the lag is accurate to that interval.
export class Backlog {
  private readonly samples: { position: number; atMs: number }[] = [];
  private appended: number;
  private stored = 0;

  /** `recoveredBytes`: unstored data found on disk at start, dated `nowMs`. */
  constructor(
    recoveredBytes: number,
    nowMs: number,
    private readonly sampleEveryMs = 100,
  ) {
    this.appended = recoveredBytes;
    if (recoveredBytes > 0) this.samples.push({ position: 0, atMs: nowMs });
  }

  /** Appended bytes not yet confirmed stored. */
  get bytes(): number {
    return this.appended - this.stored;
  }

  /** Age of the oldest unstored data, ms (0 when nothing is waiting). */
  lagMs(nowMs: number): number {
    const oldest = this.samples[0];
    return this.bytes > 0 && oldest ? nowMs - oldest.atMs : 0;
  }

  noteAppended(bytes: number, nowMs: number): void {
    const last = this.samples[this.samples.length - 1];
    if (!last || nowMs - last.atMs >= this.sampleEveryMs) this.samples.push({ position: this.appended, atMs: nowMs });
    this.appended += bytes;
  }

  /** Bytes stored (or skipped as a torn tail): samples now wholly behind them are dropped. */
  noteStored(bytes: number): void {
    this.stored += bytes;
    while (this.samples.length > 1 && this.samples[1]!.position <= this.stored) this.samples.shift();
    if (this.bytes === 0) this.samples.length = 0;
  }
}
