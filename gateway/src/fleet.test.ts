// A fleet's reconnects after a broker restart and the catch-up of its outboxes, as each gateway
// computes them alone: spread over a window sized to the fleet, and paced to its share of ingest.
import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  catchUpReadingsPerSecond,
  DEFAULT_FLEET,
  peakPerSecond,
  ReadingPacer,
  reconnectWindowMs,
} from './fleet';

describe('reconnect window and back-off', () => {
  it('sizes the window to the fleet at the broker pace', () => {
    expect(reconnectWindowMs(DEFAULT_FLEET)).toBe(100_000);
    expect(reconnectWindowMs({ ...DEFAULT_FLEET, gateways: 7000, connectsPerSecond: 50 })).toBe(140_000);
    expect(reconnectWindowMs({ ...DEFAULT_FLEET, gateways: 1 })).toBe(50);
  });

  it('spreads 2,000 first attempts over the window: the peak stays near the pace', () => {
    const backoff = { initialMs: 1000, maxMs: 300_000, windowMs: reconnectWindowMs(DEFAULT_FLEET) };
    const first = Array.from({ length: 2000 }, () => backoffDelay(0, backoff));
    expect(Math.max(...first)).toBeLessThan(100_000);
    expect(Math.max(...first)).toBeGreaterThan(95_000);
    // 20/s on average; a second's count is about Poisson(20): 45 is over five deviations away.
    expect(peakPerSecond(first)).toBeLessThan(45);
    // Without the window (a 1 s base) the same fleet came back within one second.
    expect(
      peakPerSecond(Array.from({ length: 2000 }, () => backoffDelay(0, { initialMs: 1000, maxMs: 300_000 }))),
    ).toBe(2000);
  });

  it('doubles from the window, full jitter, capped by maxMs', () => {
    const backoff = { initialMs: 1000, maxMs: 300_000, windowMs: 100_000 };
    expect([0, 1, 2, 5].map((a) => backoffDelay(a, backoff, () => 0.999))).toEqual([99_900, 199_800, 299_700, 299_700]);
    expect(backoffDelay(3, backoff, () => 0)).toBe(0);
    // Without a fleet (or one smaller than initialMs): the classic exponential back-off.
    expect([0, 1, 2, 3, 10].map((a) => backoffDelay(a, { initialMs: 1000, maxMs: 60_000 }, () => 0.999))).toEqual([
      999, 1998, 3996, 7992, 59940,
    ]);
    // A configuration's maxMs below the window bounds it (a test, a fleet told to come back fast).
    expect(backoffDelay(0, { initialMs: 100, maxMs: 2000, windowMs: 100_000 }, () => 0.999)).toBe(1998);
    const spread = Array.from({ length: 2000 }, () => backoffDelay(6, { initialMs: 1000, maxMs: 60_000 }));
    expect(Math.min(...spread)).toBeLessThan(3000);
    expect(Math.max(...spread)).toBeGreaterThan(50_000);
    expect(Math.max(...spread)).toBeLessThan(60_000);
  });
});

describe('catch-up pace', () => {
  it("is the gateway's share of the fleet's budget, never under twice its live rate", () => {
    expect(catchUpReadingsPerSecond(DEFAULT_FLEET, 1.6)).toBe(5);
    expect(catchUpReadingsPerSecond(DEFAULT_FLEET, 10)).toBe(20);
  });

  it('lets live polls through at once and a backlog out at the pace', async () => {
    let now = 0;
    const pacer = new ReadingPacer(5, 300, () => now);
    // A minute's worth at once (the first batches of a backlog, or live polls).
    await pacer.take(200);
    await pacer.take(100);
    expect(pacer.waitMs()).toBeGreaterThan(0);
    now += 1000; // 5 readings refilled: one more batch may overdraw it
    expect(pacer.waitMs()).toBe(0);
    await pacer.take(500);
    // 495 readings owed at 5/s: 99 s before the next batch.
    expect(pacer.waitMs()).toBe(99_000);
    now += 99_001;
    expect(pacer.waitMs()).toBe(0);
    // Refilling stops at the burst.
    now += 3_600_000;
    pacer.waitMs();
    await pacer.take(300);
    expect(pacer.waitMs()).toBeGreaterThan(0);
  });

  it('does not hold a stopping publisher for the rest of a backlog', async () => {
    const pacer = new ReadingPacer(1, 1);
    await pacer.take(100); // 99 s owed
    const stopping = new AbortController();
    const waiting = pacer.take(1, stopping.signal);
    stopping.abort(new Error('stopping'));
    await expect(waiting).rejects.toThrow('stopping');
  });
});
