// The pure check that decides which counters the reader must read in full.
import { describe, expect, it } from 'vitest';
import { type MinimumSpan, roseThroughout } from './counter-readings';

const D = 86_400_000;
const exact = (day: number, wh: number): MinimumSpan => ({ fromMs: day * D, toMs: day * D + 1, minWh: wh });
const stretch = (day: number, wh: number): MinimumSpan => ({ fromMs: day * D, toMs: (day + 2) * D, minWh: wh });

describe('roseThroughout', () => {
  it('accepts a rising counter and float jitter within the noise', () => {
    expect(roseThroughout([exact(-1, 100), stretch(0, 200), stretch(2, 300), exact(4.1, 400)], 100)).toBe(true);
    expect(roseThroughout([exact(-1, 10_000_000.5), stretch(0, 10_000_000.49), exact(2, 10_000_000.5)], 100)).toBe(
      true,
    );
  });

  it('finds a reset below an earlier stretch, even when the counter passes its earlier peak later', () => {
    // Starts at 0, reset on day 10: the stretch of the reset reads below the stretch before it.
    expect(
      roseThroughout([exact(-0.1, 0), stretch(0, 0), stretch(8, 96_000), stretch(10, 250), exact(30, 250_000)], 100),
    ).toBe(false);
  });

  it('finds a dip below the reading before the period, and a closing reading below the last stretch', () => {
    expect(roseThroughout([exact(-1, 1_000_000), stretch(0, 0), exact(2.5, 1_000_100)], 100)).toBe(false);
    expect(roseThroughout([exact(-1, 0), stretch(0, 1000), exact(2.5, 500)], 100)).toBe(false);
  });

  it('compares only with what ended before: a reading inside a stretch is not below it', () => {
    expect(roseThroughout([stretch(0, 100), exact(1, 150), exact(1.5, 120)], 10)).toBe(false);
    expect(roseThroughout([stretch(0, 100), exact(1, 150), stretch(2, 160)], 10)).toBe(true);
  });
});
