// Time the gateway can vouch for. A box without a real-time clock boots in 1970, and one whose NTP
// is blocked drifts (a cheap oscillator: minutes a day); a reading stamped with that clock would
// put energy in the wrong month. So a reading is stamped only with time learned from a source the
// gateway trusts, carried forward on the system's monotonic clock (CLOCK_MONOTONIC, which a clock
// step does not move and which survives a restart of the process within one boot) and corrected
// for the oscillator's rate measured between samples. Until the first sample, readings are kept
// (in the outbox, durably) with their monotonic instant and boot, and stamped when time is known;
// a reading from an earlier boot that never learned the time cannot be placed and is dropped,
// counted and reported (its energy is not lost: the next reading's counter carries it).
// Such a reading is placed from the boot's first sample, kept on disk: every time it is sent (again
// after a reconnect, or by the next process of the boot) it carries the same instant, which ingest
// stores once; placed from the latest sample and rate, each send would be a new reading.
import { closeSync, existsSync, fdatasyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { request } from 'node:https';

/** The true time (epoch ms) at a monotonic instant. */
export interface TimeSample {
  trueMs: number;
  monoMs: number;
}
/** A reading taken before the time was known: where it sits on this boot's monotonic clock. */
export interface Untimed {
  boot: string;
  monoMs: number;
}

export type TimeSource =
  /** Read on the spot (a clock the system keeps right): a sample, or why it cannot be trusted now. */
  | { kind: 'local'; describe: string; read(): TimeSample | string }
  /** Asked over the network now and then (the platform's HTTPS `Date`). */
  | { kind: 'remote'; describe: string; fetch(): Promise<TimeSample> };

/** The oscillator's rate is believed within ±2 % (±29 minutes a day); beyond that a sample is wrong. */
const MAX_RATE_ERROR = 0.02;
/** Samples closer than this do not measure a rate (the HTTPS Date has a 1 s resolution). */
const MIN_RATE_SPAN_MS = 10 * 60_000;

export class TimeKeeper {
  private first: TimeSample | null = null;
  private last: TimeSample | null = null;
  private rate = 1;
  /** This boot's first sample: where the readings held untimed are placed from, once and for all. */
  private anchor: TimeSample | null;
  lastProblem: string | null = null;

  constructor(
    readonly source: TimeSource,
    readonly boot: string,
    readonly mono: () => number,
    private readonly log: (level: 'info' | 'warn', message: string) => void = () => undefined,
    /** Where the boot's first sample is kept, for the next process of this boot (none: this process only). */
    private readonly anchorFile?: string,
  ) {
    this.anchor = anchorFile ? readAnchor(anchorFile, boot) : null;
  }

  get trusted(): boolean {
    return this.last !== null;
  }

  /** Oscillator rate: true ms per monotonic ms (1.00694 is a clock losing 10 minutes a day). */
  get measuredRate(): number {
    return this.rate;
  }

  /** The true time at a monotonic instant of this boot, or null before any sample. */
  at(monoMs: number): number | null {
    const { last } = this;
    return last === null ? null : Math.round(last.trueMs + (monoMs - last.monoMs) * this.rate);
  }

  /** A reading taken now: its time, or (time not yet known) its place on the monotonic clock. */
  now(): { ts: number } | { untimed: Untimed } {
    if (this.source.kind === 'local') {
      const sample = this.source.read();
      if (typeof sample === 'string') this.lastProblem = sample;
      else {
        this.record(sample);
        return { ts: sample.trueMs };
      }
    }
    const monoMs = this.mono();
    const ts = this.at(monoMs);
    return ts === null ? { untimed: { boot: this.boot, monoMs } } : { ts };
  }

  /**
   * The time of a reading kept untimed: a number, null (another boot: never), undefined (not yet).
   * Counted back from the boot's first sample at the monotonic clock's face value (its error over
   * that wait, 0.7 % for a clock losing 10 minutes a day, is the price of one instant per reading).
   */
  resolve(untimed: Untimed): number | null | undefined {
    if (untimed.boot !== this.boot) return null;
    const { anchor } = this;
    return anchor === null ? undefined : Math.round(anchor.trueMs + (untimed.monoMs - anchor.monoMs));
  }

  /** Asks the source; true when a sample was taken. */
  async sync(): Promise<boolean> {
    try {
      if (this.source.kind === 'local') {
        const sample = this.source.read();
        if (typeof sample === 'string') throw new Error(sample);
        this.record(sample);
      } else this.record(await this.source.fetch());
      return true;
    } catch (error) {
      this.lastProblem = `${this.source.describe}: ${(error as Error).message}`;
      return false;
    }
  }

  record(sample: TimeSample): void {
    const wasTrusted = this.trusted;
    const first = this.first ?? sample;
    const span = sample.monoMs - first.monoMs;
    if (span >= MIN_RATE_SPAN_MS) {
      const rate = (sample.trueMs - first.trueMs) / span;
      if (Math.abs(rate - 1) > MAX_RATE_ERROR) {
        // Either the source jumped or the clock is broken: start measuring again from here.
        this.log(
          'warn',
          `time: the clock ran at ${rate.toFixed(5)} of true time since the first sample; measuring again`,
        );
        this.first = sample;
        this.rate = 1;
      } else this.rate = rate;
    }
    this.first ??= sample;
    this.last = sample;
    if (this.anchor === null) {
      // On disk before any reading placed from it is published.
      if (this.anchorFile) writeAnchor(this.anchorFile, this.boot, sample);
      this.anchor = sample;
    }
    this.lastProblem = null;
    if (!wasTrusted) this.log('info', `time: trusted from ${this.source.describe}`);
  }
}

function readAnchor(file: string, boot: string): TimeSample | null {
  try {
    const kept = JSON.parse(readFileSync(file, 'utf8')) as { boot?: unknown; trueMs?: unknown; monoMs?: unknown };
    return kept.boot === boot && typeof kept.trueMs === 'number' && typeof kept.monoMs === 'number'
      ? { trueMs: kept.trueMs, monoMs: kept.monoMs }
      : null; // another boot's: its monotonic instants mean nothing now
  } catch {
    return null; // none yet (or torn before its rename: never used)
  }
}

function writeAnchor(file: string, boot: string, sample: TimeSample): void {
  const fd = openSync(`${file}.tmp`, 'w', 0o600);
  writeSync(fd, JSON.stringify({ boot, trueMs: sample.trueMs, monoMs: sample.monoMs }));
  fdatasyncSync(fd);
  closeSync(fd);
  renameSync(`${file}.tmp`, file);
}

/** CLOCK_MONOTONIC in ms (process.hrtime): shared by every process of one boot, unmoved by clock steps. */
export const monotonicMs = (): number => Number(process.hrtime.bigint() / 1_000_000n);

/** This boot's id (Linux); a monotonic instant means nothing in another boot. */
export function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return `process-${process.pid}-${Date.now()}`;
  }
}

/** The system clock, trusted while NTP says it is synchronised (systemd-timesyncd's flag file). */
export function ntpSyncedSource(syncedFile: string, wall = Date.now, mono = monotonicMs): TimeSource {
  return {
    kind: 'local',
    describe: `the system clock (NTP-synchronised: ${syncedFile})`,
    read: () =>
      existsSync(syncedFile)
        ? { trueMs: wall(), monoMs: mono() }
        : `the system clock is not NTP-synchronised (${syncedFile} is absent)`,
  };
}

/** A clock declared right (a bench, a simulated clock, a box whose clock is known to be kept). */
export function trustedClockSource(
  wall: () => number,
  mono: () => number,
  describe = 'the system clock (trusted by configuration)',
): TimeSource {
  return { kind: 'local', describe, read: () => ({ trueMs: wall(), monoMs: mono() }) };
}

/**
 * The `Date` header of an HTTPS server the gateway verifies (the platform's own, behind the same
 * CA as the broker): 1 s resolution, so the instant is taken at the middle of that second and of
 * the round trip; a round trip over 5 s is refused (the error would exceed the resolution).
 */
export function httpsDateSource(url: string, ca: Buffer | undefined, mono = monotonicMs): TimeSource {
  return {
    kind: 'remote',
    describe: url,
    fetch: () =>
      new Promise<TimeSample>((resolve, reject) => {
        const sent = mono();
        const req = request(url, { method: 'HEAD', timeout: 5000, ...(ca ? { ca } : {}) }, (res) => {
          const received = mono();
          res.resume();
          const date = Date.parse(res.headers.date ?? '');
          if (!Number.isFinite(date)) return reject(new Error('the answer has no Date header'));
          if (received - sent > 5000) return reject(new Error(`round trip of ${received - sent} ms is too long`));
          resolve({ trueMs: date + 500, monoMs: (sent + received) / 2 });
        });
        req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
        req.on('error', reject);
        req.end();
      }),
  };
}
