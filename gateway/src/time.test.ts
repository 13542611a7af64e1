// Time the gateway can vouch for (time.ts): a box that boots in 1970 stamps nothing until it has
// a trusted sample, then places what it read meanwhile; a clock losing 10 minutes a day stamps
// within a second of true time over days; a reading of an earlier boot is never given a time; a
// reading held untimed carries one instant however often it is sent.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type TimeSample, TimeKeeper, type TimeSource } from './time';

const DAY = 86_400_000;
const TRUE_START = Date.UTC(2026, 10, 1, 6, 0); // what the platform's clock says at the test's start

/** A box whose oscillator runs at `rate` of true time (monotonic ms per true ms). */
function box(rate: number, anchorFile?: string) {
  let trueNow = TRUE_START;
  const mono = () => 5_000 + (trueNow - TRUE_START) * rate; // a few seconds after boot
  const answers: (TimeSample | Error)[] = [];
  const source: TimeSource = {
    kind: 'remote',
    describe: 'https://platform.test/healthz',
    fetch: async () => {
      const answer = answers.shift() ?? { trueMs: trueNow, monoMs: mono() };
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  const keeper = new TimeKeeper(source, 'boot-1', mono, undefined, anchorFile);
  return {
    keeper,
    /** The next process of this boot. */
    restarted: () => new TimeKeeper(source, 'boot-1', mono, undefined, anchorFile),
    answers,
    advance: (ms: number) => {
      trueNow += ms;
    },
    get trueNow() {
      return trueNow;
    },
  };
}

describe('time the gateway can vouch for', () => {
  it('booting in 1970: readings before the first sample are held, then placed at their true time', async () => {
    const b = box(1);
    const held: { untimed: { boot: string; monoMs: number }; trueMs: number }[] = [];
    for (let i = 0; i < 3; i++) {
      const stamp = b.keeper.now();
      expect('untimed' in stamp, 'no time before a sample').toBe(true);
      if ('untimed' in stamp) held.push({ untimed: stamp.untimed, trueMs: b.trueNow });
      b.advance(60_000);
    }
    for (const h of held) expect(b.keeper.resolve(h.untimed)).toBeUndefined(); // not yet: wait
    b.answers.push(new Error('connect ECONNREFUSED'));
    expect(await b.keeper.sync()).toBe(false);
    expect(b.keeper.trusted).toBe(false);
    expect(b.keeper.lastProblem).toMatch(/platform.test.*ECONNREFUSED/);
    expect(await b.keeper.sync()).toBe(true);
    for (const h of held) expect(b.keeper.resolve(h.untimed)).toBe(h.trueMs);
    expect(b.keeper.now()).toEqual({ ts: b.trueNow });
  });

  it('a clock losing 10 minutes a day: stamps stay within a second of true time over 3 days', async () => {
    const b = box(1 - 10 / (24 * 60)); // 10 minutes a day slow
    // Before the rate is measured (two samples at least 10 minutes of this clock apart: 20 minutes), after.
    const worst = [0, 0];
    for (let t = 0; t < 3 * DAY; t += 60_000) {
      if (t % (10 * 60_000) === 0) await b.keeper.sync(); // the gateway re-syncs every 10 minutes
      const stamp = b.keeper.now();
      const i = t < 20 * 60_000 ? 0 : 1;
      if ('ts' in stamp) worst[i] = Math.max(worst[i]!, Math.abs(stamp.ts - b.trueNow));
      b.advance(60_000);
    }
    expect(worst[0]).toBeLessThan(5000); // 0.7 % of under 10 minutes since the last sample
    expect(worst[1]).toBeLessThanOrEqual(1000);
    expect(b.keeper.measuredRate).toBeCloseTo(1 / (1 - 10 / 1440), 6);
    // And the rate carries it across a day with the source unreachable: under a second off, not 10 minutes.
    for (let i = 0; i < 24 * 6; i++) b.answers.push(new Error('unreachable'));
    for (let t = 0; t < DAY; t += 10 * 60_000) {
      await b.keeper.sync();
      b.advance(10 * 60_000);
    }
    const stamp = b.keeper.now();
    expect('ts' in stamp && Math.abs(stamp.ts - b.trueNow)).toBeLessThan(1000);
  });

  it('a reading of an earlier boot is never placed; a source that jumps restarts the rate', async () => {
    const b = box(1);
    await b.keeper.sync();
    expect(b.keeper.resolve({ boot: 'boot-0', monoMs: 1000 })).toBeNull();
    b.advance(20 * 60_000);
    // 20 minutes of monotonic time, 2 days of "true" time: not a clock rate, a bad sample.
    b.answers.push({ trueMs: b.trueNow + 2 * DAY, monoMs: 5_000 + 20 * 60_000 });
    await b.keeper.sync();
    expect(b.keeper.measuredRate).toBe(1);
  });

  it('a reading held untimed is sent with one instant: after later samples, and by the next process of the boot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gateway-time-'));
    try {
      const b = box(1 - 10 / (24 * 60), join(dir, 'time-anchor.json')); // 10 minutes a day slow
      const stamp = b.keeper.now();
      if (!('untimed' in stamp)) throw new Error('no time before a sample');
      b.advance(5 * 60_000);
      // The platform's Date has a 1 s resolution: the first sample is half a second off.
      b.answers.push({ trueMs: b.trueNow - 500, monoMs: 5_000 + 5 * 60_000 * (1 - 10 / 1440) });
      await b.keeper.sync();
      const sent = b.keeper.resolve(stamp.untimed);
      expect(Math.abs(sent! - TRUE_START)).toBeLessThan(3000);
      // Unconfirmed, it is sent again after a reconnect, once the rate is measured from later samples.
      for (let i = 0; i < 3; i++) {
        b.advance(20 * 60_000);
        await b.keeper.sync();
      }
      expect(b.keeper.measuredRate).not.toBe(1);
      expect(b.keeper.resolve(stamp.untimed)).toBe(sent);
      // A kill -9 and a new process of the same boot, before and after its own first sample.
      const next = b.restarted();
      expect(next.resolve(stamp.untimed)).toBe(sent);
      b.advance(60_000);
      await next.sync();
      expect(next.resolve(stamp.untimed)).toBe(sent);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
