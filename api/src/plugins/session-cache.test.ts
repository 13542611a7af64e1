import { describe, expect, it } from 'vitest';
import { cacheLifetimeMs, SESSION_CACHE_MS, sessionCache } from './auth';

describe('session cache', () => {
  it('when full, evicts the entry closest to expiry and keeps the others', () => {
    const cache = sessionCache(3);
    cache.set('a', null, { ttl: 1000 });
    cache.set('b', { kind: 'beneficiary', beneficiaryId: 2 }, { ttl: 5000 });
    cache.set('c', null, { ttl: 5000 });
    cache.set('d', { kind: 'beneficiary', beneficiaryId: 4 }, { ttl: 5000 });
    expect(cache.size).toBe(3);
    expect(cache.has('a')).toBe(false);
    expect(cache.get('b')).toEqual({ kind: 'beneficiary', beneficiaryId: 2 });
    expect(cache.get('c')).toBeNull();
    expect(cache.has('d')).toBe(true);
  });

  it('spreads expiries over the lifetime in a few steps, not one per session', () => {
    // A restarted process caches every active session within seconds: 2,000 at 500 a second.
    const cache = sessionCache(50_000);
    const lifetimes: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const ttl = cacheLifetimeMs();
      lifetimes.push(ttl);
      cache.set(`s${i}`, null, { ttl });
    }
    expect(Math.min(...lifetimes)).toBeGreaterThanOrEqual(SESSION_CACHE_MS / 2);
    expect(Math.max(...lifetimes)).toBeLessThanOrEqual(SESSION_CACHE_MS + 250);
    expect(Math.max(...lifetimes) - Math.min(...lifetimes)).toBeGreaterThan(SESSION_CACHE_MS / 4); // still jittered
    // Each distinct expiry instant is a list the cache walks on every purge: 41 steps in 10 s (a
    // step's boundary may land a millisecond either side on the cache's clock). Expiries to the
    // millisecond gave about 1,000 here.
    expect(Object.keys(cache.expirations).length).toBeLessThanOrEqual(2 * 41);
    const instants = Array.from({ length: 2000 }, (_, i) => {
      const now = 1_000_000.37 + i * 2; // 4 s of arrivals
      return now + cacheLifetimeMs(now);
    });
    expect(new Set(instants).size).toBeLessThanOrEqual(60); // (4 + 10) s / 250 ms + 1
  });
});
