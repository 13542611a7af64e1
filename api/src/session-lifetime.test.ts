import { describe, expect, it } from 'vitest';
import { sessionLifetime } from './session-lifetime';

const lifetimes = { ttlMinutes: 720, rememberDays: 90, rememberMaxDays: 365 };
const now = new Date('2026-12-05T10:00:00Z');
const days = (d: number) => new Date(now.getTime() + d * 86_400_000);

describe('session lifetimes', () => {
  it('keeps staff and API tokens short and unmoving, and never usable as the portal cookie', () => {
    expect(sessionLifetime('api', lifetimes, now)).toEqual({
      portal: false,
      expiresAt: new Date('2026-12-05T22:00:00Z'),
      slidingDays: null,
      renewUntil: null,
    });
  });

  it('gives a portal session on a phone that is not only the person’s the same short life, for the cookie only', () => {
    expect(sessionLifetime('portal', lifetimes, now)).toMatchObject({
      portal: true,
      slidingDays: null,
      renewUntil: null,
    });
  });

  it('lets a remembered session slide by 90 days with use, to at most a year after the PIN was typed', () => {
    expect(sessionLifetime('remembered', lifetimes, now)).toEqual({
      portal: true,
      expiresAt: days(90),
      slidingDays: 90,
      renewUntil: days(365),
    });
    // A cap configured below the sliding window is the window itself.
    expect(sessionLifetime('remembered', { ...lifetimes, rememberMaxDays: 30 }, now).renewUntil).toEqual(days(90));
  });
});
