import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { longLines, longLinesInTree, MAX_LINE_CHARACTERS } from './line-length';

describe('the line-length check', () => {
  it('finds a line over the limit and counts characters, not bytes', () => {
    const text = ['a'.repeat(160), `  ${'b'.repeat(159)}`, 'ر'.repeat(160)].join('\n');
    expect(longLines('x.ts', text)).toEqual(['x.ts:2: 161 characters']);
  });

  it(`holds for every .ts and .sh file: none over ${MAX_LINE_CHARACTERS} characters`, () => {
    expect(longLinesInTree(join(import.meta.dirname, '..'))).toEqual([]);
  });
});
