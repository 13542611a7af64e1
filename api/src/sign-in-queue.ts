// The sign-in queue: how many PIN and password checks (scrypt at OWASP's cost, ~0.5 s of a core
// and 128 MiB each) run at once, and who waits for a turn. A sign-in that would wait longer than
// `maxWaitMs` is refused at once (SignInBusyError: 503 with Retry-After) instead of joining a queue
// in which everyone times out: on payday the people admitted sign in within seconds and the others
// are told when to come back. Each refusal books a turn after those already promised (one check's
// share of the capacity each), so the refused are spread over the capacity to come instead of all
// returning at once to be refused again. A refusal checks nothing, so it is no guess at a PIN and
// counts no failure. Each API process has one queue for every entry point (API and portal).
import { RetryLaterError } from './errors';

export interface SignInQueueSettings {
  /** Checks that run at once (scrypt runs in libuv's thread pool, 4 threads unless UV_THREADPOOL_SIZE). */
  concurrency: number;
  /** The longest a sign-in is expected to wait for its turn; one expected to wait longer is refused. */
  maxWaitMs: number;
}

/** 503: sign-in is at capacity; come back after `retryAfterSeconds` (the portal words it for people). */
export class SignInBusyError extends RetryLaterError {
  constructor(retryAfterSeconds: number) {
    super(`too many sign-ins at once; try again in ${retryAfterSeconds} s`, retryAfterSeconds);
  }
}

// What one check is assumed to take until one has been timed (BENCHMARKS.md, quiet machine).
const FIRST_ESTIMATE_MS = 500;
// Weight of the newest check in the running average: follows a machine that slows down within a few.
const SMOOTHING = 0.2;

export class SignInQueue {
  private running = 0;
  private readonly waiting: { start: () => void; deadline: number; refuse: (e: Error) => void }[] = [];
  private averageMs = FIRST_ESTIMATE_MS;
  /** The end of the last turn promised to someone refused (in `now()`'s clock). */
  private bookedUntil = Number.NEGATIVE_INFINITY;

  constructor(
    readonly settings: SignInQueueSettings,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Runs `check` in its turn, or throws SignInBusyError at once when the wait would be too long. */
  async run<T>(check: () => Promise<T>): Promise<T> {
    if (this.running >= this.settings.concurrency) {
      // Everyone ahead (those waiting, this one) is served `concurrency` at a time.
      const expectedWaitMs = ((this.waiting.length + 1) / this.settings.concurrency) * this.averageMs;
      if (expectedWaitMs > this.settings.maxWaitMs) throw this.busy();
      await new Promise<void>((start, refuse) => {
        // Checks that slow down after admission must not stretch the promise: past twice the
        // bound, a waiter is refused when its turn would come.
        this.waiting.push({ start, refuse, deadline: this.now() + 2 * this.settings.maxWaitMs });
      });
    } else this.running += 1;
    const started = this.now();
    try {
      return await check();
    } finally {
      this.averageMs += SMOOTHING * (this.now() - started - this.averageMs);
      this.next();
    }
  }

  /** What the queue holds now (for health and tests). */
  get state() {
    return { running: this.running, waiting: this.waiting.length, averageMs: Math.round(this.averageMs) };
  }

  // The slot passes straight to the next waiter in time (running stays the same), or is freed.
  private next(): void {
    for (let waiter = this.waiting.shift(); waiter; waiter = this.waiting.shift()) {
      if (this.now() <= waiter.deadline) {
        waiter.start();
        return;
      }
      waiter.refuse(this.busy());
    }
    this.running -= 1;
  }

  /** When to come back: the next turn after everyone running, waiting and already told to return. */
  private busy(): SignInBusyError {
    const now = this.now();
    const perCheckMs = this.averageMs / this.settings.concurrency;
    const drained = now + (this.running + this.waiting.length) * perCheckMs;
    this.bookedUntil = Math.max(this.bookedUntil, drained) + perCheckMs;
    return new SignInBusyError(Math.max(1, Math.ceil((this.bookedUntil - now) / 1000)));
  }
}
