import { describe, expect, it } from 'vitest';
import { parseEvents } from './telemetry-cache';

describe('parseEvents', () => {
  it('reads the JSON array ingest stores, older comma-separated points, and nothing from garbage', () => {
    expect(parseEvents('["GROUND_FAULT","ARC, FAULT"]')).toEqual(['GROUND_FAULT', 'ARC, FAULT']);
    expect(parseEvents('GROUND_FAULT,COUNTER_RESET')).toEqual(['GROUND_FAULT', 'COUNTER_RESET']);
    expect(parseEvents('[not json')).toEqual([]);
    expect(parseEvents(null)).toEqual([]);
  });
});
