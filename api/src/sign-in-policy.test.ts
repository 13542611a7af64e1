import { describe, expect, it } from 'vitest';
import { lockMinutesAfter } from './sign-in-policy';

describe('sign-in back-off', () => {
  it('holds off after the threshold, doubling with every further threshold of failures, at most a day', () => {
    expect(lockMinutesAfter(4, 5, 15)).toBeNull();
    expect(lockMinutesAfter(5, 5, 15)).toBe(15);
    expect(lockMinutesAfter(9, 5, 15)).toBe(15);
    expect(lockMinutesAfter(10, 5, 15)).toBe(30);
    expect(lockMinutesAfter(20, 5, 15)).toBe(120);
    expect(lockMinutesAfter(10_000, 5, 15)).toBe(1440);
  });
});
