import { describe, expect, it } from 'vitest';
import { defaultSignInConcurrency } from './config';
import { SignInBusyError, SignInQueue } from './sign-in-queue';

/** A check that ends when the test says so, on a clock the test moves. */
function harness(concurrency: number, maxWaitMs: number) {
  let now = 0;
  const queue = new SignInQueue({ concurrency, maxWaitMs }, () => now);
  const pending: (() => void)[] = [];
  const started: number[] = [];
  const submit = (id: number) =>
    queue.run(
      () =>
        new Promise<number>((resolve) => {
          started.push(id);
          pending.push(() => resolve(id));
        }),
    );
  const finishOldest = async (afterMs: number) => {
    now += afterMs;
    pending.shift()!();
    await new Promise((r) => setImmediate(r));
  };
  const advance = (ms: number) => {
    now += ms;
  };
  return { queue, submit, finishOldest, started, advance };
}

describe('the sign-in queue', () => {
  it("keeps a core for the pages and PostgreSQL by default: one check at a time on two cores, at most libuv's four threads", () => {
    expect([1, 2, 3, 4, 8, 64].map(defaultSignInConcurrency)).toEqual([1, 1, 2, 3, 4, 4]);
  });

  it('runs up to its concurrency at once, queues what fits within the wait, refuses the rest at once with when to return', async () => {
    // 2 at once, a check estimated at 500 ms: waiting up to 1,000 ms admits the next 4 (wait 250, 500, 750, 1,000 ms).
    const { queue, submit, finishOldest, started } = harness(2, 1000);
    const answers = Array.from({ length: 12 }, (_, i) => submit(i).catch((e: unknown) => e));
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    expect(queue.state).toMatchObject({ running: 2, waiting: 4 });
    const refused = (await Promise.all(answers.slice(6))) as SignInBusyError[];
    for (const error of refused) {
      expect(error).toBeInstanceOf(SignInBusyError);
      expect(error.statusCode).toBe(503);
    }
    // Each refused is given its own turn after the 6 admitted (250 ms of capacity each): 1.75 s, 2 s, 2.25 s, ...
    expect(refused.map((e) => e.retryAfterSeconds)).toEqual([2, 2, 3, 3, 3, 3]);
    for (let i = 0; i < 6; i++) await finishOldest(500);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(await Promise.all(answers.slice(0, 6))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(queue.state).toMatchObject({ running: 0, waiting: 0 });
  });

  it('forgets turns promised in the past', async () => {
    const { submit, finishOldest, advance } = harness(1, 0);
    const first = submit(1);
    const refusals = [];
    for (let i = 0; i < 8; i++) refusals.push(await submit(2).catch((e: SignInBusyError) => e.retryAfterSeconds));
    expect(refusals).toEqual([1, 2, 2, 3, 3, 4, 4, 5]); // 0.5 s of capacity each after the one running
    await finishOldest(500);
    await first;
    advance(60_000);
    const again = submit(3);
    await expect(submit(4)).rejects.toMatchObject({ retryAfterSeconds: 1 });
    await finishOldest(500);
    expect(await again).toBe(3);
  });

  it('learns how long a check takes: slower checks make room for fewer waiters', async () => {
    const { queue, submit, finishOldest } = harness(1, 1000);
    for (let i = 0; i < 6; i++) {
      const done = submit(i);
      await finishOldest(2000);
      await done;
    }
    expect(queue.state.averageMs).toBeGreaterThan(1500);
    const first = submit(10);
    await expect(submit(11)).rejects.toBeInstanceOf(SignInBusyError); // one wait of ~2 s > 1 s
    await finishOldest(2000);
    expect(await first).toBe(10);
  });

  it('refuses a waiter whose turn comes later than twice the bound, instead of holding it on', async () => {
    const { queue, submit, finishOldest, started } = harness(1, 1000);
    const first = submit(1);
    const second = submit(2).catch((e: unknown) => e); // expected wait 500 ms: admitted to wait
    await new Promise((r) => setImmediate(r));
    await finishOldest(2500); // the first check took 2.5 s: the waiter's deadline (2 s) has passed
    expect(await first).toBe(1);
    expect(await second).toBeInstanceOf(SignInBusyError);
    expect(started).toEqual([1]);
    expect(queue.state).toMatchObject({ running: 0, waiting: 0 });
  });

  it('with no wait allowed, admits only into a free slot', async () => {
    const { submit, finishOldest } = harness(1, 0);
    const first = submit(1);
    await expect(submit(2)).rejects.toBeInstanceOf(SignInBusyError);
    await finishOldest(100);
    expect(await first).toBe(1);
    const third = submit(3);
    await finishOldest(100);
    expect(await third).toBe(3);
  });

  it('frees the slot when a check fails', async () => {
    let now = 0;
    const queue = new SignInQueue({ concurrency: 1, maxWaitMs: 0 }, () => now);
    await expect(queue.run(() => Promise.reject(new Error('database away')))).rejects.toThrow('database away');
    now += 10;
    expect(await queue.run(async () => 'next')).toBe('next');
  });
});
