// A device's past is immutable (history.ts): readings not newer than what this worker knows of the
// device are judged against InfluxDB (read as the reader) plus what this worker journaled and has
// not shipped yet. While InfluxDB cannot be read, such a message waits (its acknowledgement too):
// judging it without the history could let a device rewrite its past.
import type { InfluxClient } from '../../lib/influx/client';
import type { Logger } from '../../lib/logger';
import type { CounterGuard } from './counter-guard';
import { KnownTimeline, newestStored, RecentReadings, storedAround } from './history';
import type { Journal } from './journal';
import { type CounterCheck, judgeAgainstHistory, type ProcessedMessage } from './process-message';
import { waitBeforeRetry } from './retry-delay';

export class HistoryJudge {
  /** False while InfluxDB cannot be read: /healthz says so. */
  readable = true;
  /** What this worker journaled, until the journal's lag has passed it. */
  readonly recent = new RecentReadings();
  private readonly forgetShipped: NodeJS.Timeout;
  private readonly seeded: Promise<void>;

  constructor(
    private readonly influxReader: InfluxClient,
    journal: Journal,
    private readonly counters: CounterGuard,
    private readonly checkCounter: CounterCheck,
    private readonly log: Logger,
  ) {
    this.forgetShipped = setInterval(() => {
      const now = Date.now();
      this.recent.forgetShipped(now - journal.lagMs(now) - 1000);
    }, 1000);
    // Each device's newest stored reading: its first reading after this start is judged from it
    // without a query (only readings not newer than it are). Not awaited: until it answers, first
    // readings are judged against their history one by one, which is correct, only slower.
    this.seeded = newestStored(influxReader, Date.now() - 31 * 86_400_000).then(
      ({ newest, sinceMs }) => {
        counters.seedAll(newest, sinceMs);
        log.info({ devices: newest.size }, "read each device's newest stored reading");
      },
      (error: Error) =>
        log.warn(
          { error: error.message },
          "cannot read the devices' newest stored readings; each device's first reading is judged against its history",
        ),
    );
  }

  /** The message with its deferred readings judged against the stored history (retried until InfluxDB answers). */
  async judge(result: ProcessedMessage, topic: string): Promise<ProcessedMessage> {
    if (!result.deferred?.length || !result.device) return result;
    const { serial } = result.device;
    for (let attempt = 0; ; attempt += 1) {
      try {
        const stored = await storedAround(
          this.influxReader,
          serial,
          result.deferred.map((d) => d.tMs),
        );
        if (!this.readable) this.log.info('InfluxDB answers history reads again');
        this.readable = true;
        const timeline = new KnownTimeline([...stored, ...this.recent.of(serial)]);
        return judgeAgainstHistory(result, topic, timeline, this.checkCounter);
      } catch (error) {
        // A device this worker knows nothing of (started while InfluxDB was away): judged as before
        // the history existed, from what this worker journaled, so an outage stops no one.
        if (this.counters.knowsNothingOf(serial))
          return judgeAgainstHistory(result, topic, new KnownTimeline(this.recent.of(serial)), this.checkCounter);
        // Judging a late reading without the history could let a device rewrite its past: wait for InfluxDB.
        if (this.readable)
          this.log.error(
            { error: (error as Error).message, user: this.influxReader.username },
            'cannot read the stored history to judge late readings (check InfluxDB and INFLUX_READER_USERNAME/PASSWORD); holding the message and retrying',
          );
        this.readable = false;
        await waitBeforeRetry(attempt);
      }
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.forgetShipped);
    await this.seeded;
  }
}
