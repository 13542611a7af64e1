import { expect, it } from 'vitest';
import { retryDelayMs } from './retry-delay';

it('doubles from 100 ms and stops at 5 s, however long the outage', () => {
  expect([0, 1, 2, 3, 4, 5, 6, 7, 50, 5000].map(retryDelayMs)).toEqual([
    100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000,
  ]);
});
