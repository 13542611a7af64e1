import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonCopy, jsonText } from './json';

describe('jsonText', () => {
  it('writes exactly what JSON.stringify with a bigint-to-string replacer writes (digests of earlier runs still match)', () => {
    const replaced = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
    fc.assert(
      fc.property(
        fc.anything({ withBigInt: true, withDate: true, withNullPrototype: true, withSparseArray: true }),
        (v) => {
          expect(jsonText(v)).toBe(replaced(v));
        },
      ),
      { numRuns: 2000 },
    );
    expect(jsonText({ rials: 10n ** 30n, at: new Date(0), gone: undefined, list: [undefined, -5n] })).toBe(
      '{"rials":"1000000000000000000000000000000","at":"1970-01-01T00:00:00.000Z","list":[null,"-5"]}',
    );
  });

  it('copies a value as a jsonb column stores it', () => {
    expect(jsonCopy({ id: 7n, at: new Date(0), nested: [1n] })).toEqual({
      id: '7',
      at: '1970-01-01T00:00:00.000Z',
      nested: ['1'],
    });
    expect(jsonCopy(undefined)).toBeUndefined();
  });
});
