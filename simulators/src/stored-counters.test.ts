import { describe, expect, it } from 'vitest';
import { epochCounter } from './stored-counters';

describe("the counter a serial's next reading continues", () => {
  const stored = { tMs: 1_000, wh: 150_000 };
  it('is the latest stored reading, unless a replacement was recorded after it', () => {
    expect(epochCounter(stored, undefined)).toEqual({ from: 'stored', atMs: 1_000, wh: 150_000 });
    expect(epochCounter(undefined, undefined)).toBeUndefined();
    // A reading at the replacement's instant is the new counter's (billing's model and ingest's door agree).
    expect(epochCounter(stored, { atMs: 1_000, initialWh: 5 })).toEqual({ from: 'stored', atMs: 1_000, wh: 150_000 });
    expect(epochCounter(stored, { atMs: 1_001, initialWh: 5 })).toEqual({ from: 'replacement', atMs: 1_001, wh: 5 });
    expect(epochCounter(undefined, { atMs: 1_001, initialWh: 5 })).toEqual({ from: 'replacement', atMs: 1_001, wh: 5 });
  });
  it('is unknown after a replacement recorded without its new counter and nothing stored since', () => {
    expect(epochCounter(stored, { atMs: 2_000, initialWh: null })).toEqual({
      from: 'replacement',
      atMs: 2_000,
      wh: null,
    });
  });
});
