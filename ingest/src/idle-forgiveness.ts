// While a worker took nothing (down, stalled, disconnected, holding its acknowledgements) the broker
// queued every device's messages; they arrive together afterwards and are not a flood: each
// device's fair share is widened by the time the worker took nothing.
import type { Logger } from '../../lib/logger';
import type { FairShareLimiter } from '../../lib/telemetry/fair-share';

export class IdleForgiveness {
  private tickedAtMs: number;

  constructor(
    private readonly fairShare: FairShareLimiter,
    private readonly log: Logger,
    nowMs: number,
  ) {
    this.tickedAtMs = nowMs;
  }

  tookNothingFor(ms: number): void {
    if (ms < 2000) return;
    this.fairShare.forgive(ms / 1000, Date.now());
    this.log.info({ seconds: Math.round(ms / 1000) }, "devices' fair share widened for the backlog queued meanwhile");
  }

  /**
   * The event loop stalled (SIGSTOP, a long pause): noticed by the next tick or the next message,
   * whichever comes first (after SIGCONT the queued messages may be read before any timer runs).
   */
  noticeStall(nowMs: number): void {
    if (nowMs - this.tickedAtMs < 3000) return;
    this.tookNothingFor(nowMs - this.tickedAtMs - 1000);
    this.tickedAtMs = nowMs;
  }

  /** Called every second. */
  tick(nowMs: number): void {
    this.noticeStall(nowMs);
    this.tickedAtMs = nowMs;
  }
}
