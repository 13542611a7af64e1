import { describe, expect, it } from 'vitest';
import { sessionCache } from './auth';

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
});
