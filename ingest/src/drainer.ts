// Ships the journal to InfluxDB in batches, a bounded number of writes in flight, retrying
// (with backoff) for as long as InfluxDB is down or slow; confirms each stored batch to the journal
// and releases the acknowledgements the backlog held (ack-gate.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InfluxClient } from '../../lib/influx/client';
import { InfluxError } from '../../lib/influx/client';
import { MEASUREMENT, RETENTION } from '../../lib/influx/layout';
import type { Logger } from '../../lib/logger';
import type { AckGate } from './ack-gate';
import type { Journal, JournalBatch } from './journal';
import type { IngestMetrics } from './metrics';
import { waitBeforeRetry } from './retry-delay';

export interface DrainerOptions {
  batchMaxBytes: number;
  flushIntervalMs: number;
  writesInFlight: number;
  deadLetterDir: string;
}

const REJECTED_PREFIX = Buffer.from(`${MEASUREMENT.rejectedMessage},`);
const REJECTED_LINE = Buffer.from(`\n${MEASUREMENT.rejectedMessage},`);
/** A batch's rejection lines (kept under the short `rejected` retention) apart from the readings. */
function splitRejections(data: Buffer): { points: Buffer; rejections: Buffer } {
  if (!data.subarray(0, REJECTED_PREFIX.length).equals(REJECTED_PREFIX) && data.indexOf(REJECTED_LINE) < 0)
    return { points: data, rejections: Buffer.alloc(0) };
  const points: string[] = [];
  const rejections: string[] = [];
  for (const line of data.toString('utf8').split('\n'))
    if (line !== '') (line.startsWith(REJECTED_PREFIX.toString()) ? rejections : points).push(line);
  const join = (lines: string[]) => Buffer.from(lines.length > 0 ? `${lines.join('\n')}\n` : '');
  return { points: join(points), rejections: join(rejections) };
}

const countLines = (data: Buffer) => {
  let n = 0;
  for (let i = data.indexOf(0x0a); i >= 0; i = data.indexOf(0x0a, i + 1)) n += 1;
  return n;
};

export class Drainer {
  private inFlight = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private lastDispatchMs = 0;
  private idleWaiters: (() => void)[] = [];
  /** False after a failed write until the next success: what /healthz reports. */
  influxHealthy = true;
  /** InfluxDB refuses the writer (401/403) until the next success: /healthz; logged once, not per retry. */
  writerRefused = false;

  constructor(
    private readonly journal: Journal,
    private readonly influx: InfluxClient,
    private readonly options: DrainerOptions,
    private readonly metrics: IngestMetrics,
    private readonly log: Logger,
    private readonly gate: AckGate,
    private readonly onConfirmed: () => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.pump(true), this.options.flushIntervalMs);
    this.pump(true);
  }

  /** Called after appends: dispatches full batches at once, partial ones on the flush timer. */
  pump(flushDue = false): void {
    if (this.stopped) return;
    while (this.inFlight < this.options.writesInFlight) {
      const unread = this.journal.unreadBytes;
      const due = flushDue || Date.now() - this.lastDispatchMs >= this.options.flushIntervalMs;
      if (unread === 0 || (unread < this.options.batchMaxBytes && !due)) break;
      const batch = this.journal.nextBatch(this.options.batchMaxBytes);
      if (!batch) break;
      this.lastDispatchMs = Date.now();
      this.inFlight += 1;
      void this.ship(batch);
    }
    if (this.inFlight === 0 && this.journal.backlogBytes === 0)
      for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async ship(batch: JournalBatch): Promise<void> {
    const points = countLines(batch.data);
    for (let attempt = 0; ; attempt += 1) {
      const started = process.hrtime.bigint();
      try {
        const { points: readings, rejections } = splitRejections(batch.data);
        if (readings.length > 0) await this.influx.write(readings);
        if (rejections.length > 0) await this.influx.write(rejections, { retentionPolicy: RETENTION.rejected });
        this.metrics.writeSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
        if (!this.influxHealthy) this.log.info({ attempt }, 'InfluxDB writes succeed again');
        this.influxHealthy = true;
        this.writerRefused = false;
        break;
      } catch (error) {
        const influxError = error instanceof InfluxError ? error : new InfluxError(String(error), null, '');
        // A refused user or grant is an operator's mistake, not the data's: the batch stays in the
        // journal and is retried (with backoff) until the credentials are fixed; never dead-lettered.
        if (!influxError.retryable && !influxError.unauthorized) {
          // InfluxDB stored what it could parse (partial write) and refused the rest; keep the
          // whole batch with the reason so nothing vanishes, then move on.
          this.metrics.writeFailures.labels('rejected').inc();
          const file = await this.keepDeadLetter(batch, influxError.message);
          this.log.error(
            { status: influxError.status, points, deadLetter: `${file}.lp`, error: influxError.message },
            'InfluxDB refused part of a batch; kept in dead-letter',
          );
          break;
        }
        this.metrics.writeFailures.labels(influxError.unauthorized ? 'unauthorized' : 'retry').inc();
        if (influxError.unauthorized && !this.writerRefused) {
          this.writerRefused = true;
          this.log.error(
            { status: influxError.status, user: this.influx.username, error: influxError.message },
            'InfluxDB refused the writer (check INFLUX_WRITER_USERNAME/INFLUX_WRITER_PASSWORD and its WRITE ' +
              'grant; re-running setup fixes both); readings stay in the journal and are retried with backoff',
          );
        } else if (this.influxHealthy && !influxError.unauthorized)
          this.log.warn(
            { error: influxError.message },
            'InfluxDB write failed; retrying with backoff, acknowledged readings stay in the journal',
          );
        this.influxHealthy = false;
        if (this.stopped) {
          this.inFlight -= 1;
          return;
        }
        await waitBeforeRetry(attempt);
      }
    }
    this.metrics.batchPoints.observe(points);
    this.metrics.pointsWritten.inc(points);
    this.journal.confirm(batch);
    this.inFlight -= 1;
    this.metrics.backlogBytes.set(this.journal.backlogBytes);
    this.gate.release();
    this.onConfirmed();
    this.pump();
  }

  /** Writes a refused batch and its reason to dead-letter, retrying while the disk is full or failing: the batch leaves the journal only once kept there. */
  private async keepDeadLetter(batch: JournalBatch, reason: string): Promise<string> {
    const file = join(this.options.deadLetterDir, `${Date.now()}-${batch.from.segment}-${batch.from.offset}`);
    for (let attempt = 0; ; attempt += 1) {
      try {
        mkdirSync(this.options.deadLetterDir, { recursive: true });
        writeFileSync(`${file}.lp`, batch.data);
        writeFileSync(`${file}.error.txt`, reason);
        return file;
      } catch (error) {
        if (attempt === 0)
          this.log.error(
            { error: (error as Error).message },
            'cannot write a refused batch to dead-letter; it stays in the journal, retrying',
          );
        await waitBeforeRetry(attempt);
      }
    }
  }

  /** Resolves once everything journaled so far is in InfluxDB (or after timeoutMs). */
  async drained(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0 && this.journal.backlogBytes === 0) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
      this.pump(true);
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }
}
