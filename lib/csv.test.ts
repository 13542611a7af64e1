// The shared CSV writer: whatever the text, one field stays one cell of one row, and never a formula.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvDocument, csvField } from './csv';

/** The cell a reader gets back (RFC 4180 unquoting). */
const unquote = (field: string) => (field.startsWith('"') ? field.slice(1, -1).replace(/""/g, '"') : field);

describe('csvField', () => {
  it('neutralises formulas, including after blanks, in full-width forms and behind a tab or CR', () => {
    for (const text of ['=1+1', '+1', '-1', '@SUM(A1)', '  =1', '\t=1', '\r=1', '\uff1d1+1', '\tcmd'])
      expect(unquote(csvField(text))).toMatch(/^'/);
    expect(csvField('Zahra Ahmadi')).toBe('Zahra Ahmadi');
    expect(csvField('زهرا احمدی')).toBe('زهرا احمدی');
    expect(csvField(-5n)).toBe('-5');
  });

  it('never lets a value end its row or its cell, for any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const field = csvField(text);
        expect(field).not.toMatch(/[\r\n\u2028\u2029]/);
        const cell = unquote(field);
        if (!field.startsWith('"')) expect(field).not.toMatch(/[",]/);
        else expect(field.slice(1, -1)).not.toMatch(/(^|[^"])"(?!")/);
        expect(cell).not.toMatch(/^\s*[=+\-@\uff1d\uff0b\uff0d\uff20\t\r]/);
      }),
      { numRuns: 2000 },
    );
  });

  it('writes CRLF-terminated records under a header', () => {
    expect(csvDocument(['a', 'b'], [['x,y', 1n]])).toBe('a,b\r\n"x,y",1\r\n');
  });
});
