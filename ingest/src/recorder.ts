// Puts a validated message into the journal: its readings' lines and at most one rejection record
// (within the device's budget: no amplification), then counts it. Journaling must succeed before
// the acknowledgement: while the disk is short or failing, `recordOrRetry` holds the message and
// retries (shipped journal space is reclaimed meanwhile); it never drops the message, never exits.
import type { Logger } from '../../lib/logger';
import type { DiskSpace } from './disk-space';
import type { RecentReadings } from './history';
import type { Journal } from './journal';
import type { IngestMetrics } from './metrics';
import { asOneRecord, encodeRejection, type ProcessedMessage } from './process-message';
import type { ReadingDelay } from './reading-delay';
import { RejectionBudget, UNREGISTERED } from './rejection-budget';
import { waitBeforeRetry } from './retry-delay';

/** A record's worker tag and time when they are not this worker's and the arrival's (the broker's records). */
export type RecordedAs = { worker: string; timestampNs: string };

export interface RecorderParts {
  workerId: string;
  diskReserveBytes: number;
  journal: Journal;
  disk: DiskSpace;
  isRegistered: (serial: string) => boolean;
  recent: RecentReadings;
  delay: ReadingDelay;
  metrics: IngestMetrics;
  log: Logger;
}

export class Recorder {
  /** Why journaling waits for the disk (null: it does not). */
  diskProblem: string | null = null;
  private rejectionSeq = 0;
  private readonly budget = new RejectionBudget();

  constructor(private readonly parts: RecorderParts) {}

  /** Free space is under the reserve: journal only through `recordOrRetry`. */
  get diskLow(): boolean {
    return this.parts.disk.low;
  }

  /** Journals the message or throws (the journal write failed). Safe to call again: it builds its own lines and counts only on success. */
  record(result: ProcessedMessage, receivedAtMs: number, payload: Buffer, as?: RecordedAs): void {
    const { journal, metrics } = this.parts;
    const lines = [...result.lines];
    // One record per message, within the device's budget (no amplification).
    const rejection = asOneRecord(result.rejections, payload);
    const unrecordedBefore = rejection
      ? this.budget.take(this.parts.isRegistered(rejection.serial) ? rejection.serial : UNREGISTERED, receivedAtMs)
      : null;
    if (rejection && unrecordedBefore !== null) {
      // A sub-millisecond sequence keeps two rejections of the same millisecond from overwriting each other.
      this.rejectionSeq = (this.rejectionSeq + 1) % 1_000_000;
      lines.push(
        encodeRejection(
          { ...rejection, unrecordedBefore },
          as?.worker ?? this.parts.workerId,
          as?.timestampNs ?? `${receivedAtMs}${String(this.rejectionSeq).padStart(6, '0')}`,
        ),
      );
    }
    if (lines.length > 0) journal.append(Buffer.from(`${lines.join('\n')}\n`));
    if (rejection && unrecordedBefore === null) metrics.rejectionsUnrecorded.inc();
    if (result.device && result.accepted) {
      this.parts.recent.add(result.device.serial, result.accepted, Date.now());
      this.parts.delay.note(result.accepted, receivedAtMs);
    }
    for (const rejection of result.rejections) metrics.rejected.labels(rejection.reason).inc();
    metrics.readingsAccepted.inc(result.readings);
    if (result.duplicates) metrics.readingsDuplicate.inc(result.duplicates);
  }

  /** Journals the message, waiting while the disk is short (under the reserve) or failing: resolves once it is in. */
  async recordOrRetry(result: ProcessedMessage, receivedAtMs: number, payload: Buffer, as?: RecordedAs): Promise<void> {
    const { journal, disk, log } = this.parts;
    for (let attempt = 0; ; attempt += 1) {
      if (disk.low) {
        this.diskProblem ??= `free disk space under the reserve (INGEST_DISK_RESERVE_BYTES = ${this.parts.diskReserveBytes} bytes)`;
        journal.reclaim();
        await waitBeforeRetry(Math.min(attempt, 3));
        disk.poll();
        continue;
      }
      try {
        this.record(result, receivedAtMs, payload, as);
        if (this.diskProblem !== null) log.info('journal writes succeed again; acknowledgements resume');
        this.diskProblem = null;
        return;
      } catch (error) {
        const reason = `journal write failing (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
        if (this.diskProblem !== reason)
          log.error({ error: (error as Error).message }, `${reason}; holding acknowledgements and retrying`);
        this.diskProblem = reason;
        journal.reclaim();
        await waitBeforeRetry(Math.min(attempt, 4)); // at most 1.6 s between tries: resume soon after space is back
      }
    }
  }

  /** Forgets the budgets of devices quiet for long (bounded state). */
  prune(nowMs: number): void {
    this.budget.prune(nowMs);
  }
}
