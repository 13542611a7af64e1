// Publish-to-stored lag from the readings' own timestamps (live ones: at most 10 minutes old): each
// goes to the histogram, and the largest over the current and the previous 10-second window is what
// /healthz reports (plus the journal's lag to InfluxDB).
const LIVE_MS = 600_000;
const WINDOW_MS = 10_000;

export class ReadingDelay {
  private startMs: number;
  private maxMs = 0;
  private previousMaxMs = 0;

  constructor(
    nowMs: number,
    private readonly histogram: { observe(seconds: number): void },
  ) {
    this.startMs = nowMs;
  }

  note(accepted: readonly { tMs: number }[], receivedAtMs: number): void {
    if (receivedAtMs - this.startMs >= WINDOW_MS) {
      this.previousMaxMs = receivedAtMs - this.startMs >= 2 * WINDOW_MS ? 0 : this.maxMs;
      this.startMs = receivedAtMs;
      this.maxMs = 0;
    }
    for (const { tMs } of accepted) {
      const delayMs = receivedAtMs - tMs;
      if (delayMs < 0 || delayMs > LIVE_MS) continue;
      this.histogram.observe(delayMs / 1000);
      if (delayMs > this.maxMs) this.maxMs = delayMs;
    }
  }

  /** The largest delay of the last 10 to 20 seconds (0 when nothing arrived in them). */
  seconds(nowMs: number): number {
    return nowMs - this.startMs >= 2 * WINDOW_MS ? 0 : Math.max(this.maxMs, this.previousMaxMs) / 1000;
  }
}
