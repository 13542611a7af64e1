import { describe, expect, it } from 'vitest';
import { readSmsConfig } from './config';

describe('the SMS settings', () => {
  it('pace payday at what one 2-core API host signs in, as if every reader signed in at once', () => {
    // Each message may bring its reader to the portal's sign-in: the pace is payday's arrival rate.
    // One core checking PINs at scrypt's N=2^17 signs in about 2 people a second (BENCHMARKS.md, payday),
    // and a 2-core host keeps its other core for the pages (api/src/config.ts).
    expect(readSmsConfig({}).perMinute / 60).toBeLessThanOrEqual(2);
  });
});
