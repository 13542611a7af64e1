// The shared CSV writer: whatever the text, one field stays one cell of one row, and never a formula.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvDocument, csvField, parseCsv } from './csv';

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

describe('parseCsv', () => {
  it('handles BOM, CRLF, quotes, embedded commas, quotes and line breaks, and blank lines', () => {
    const text = '\ufeffa,b,c\r\n1,"x, y","say ""hi"""\r\n\r\n2,"multi\nline",\n';
    expect(parseCsv(text)).toEqual([
      { line: 1, cells: ['a', 'b', 'c'] },
      { line: 2, cells: ['1', 'x, y', 'say "hi"'] },
      { line: 4, cells: ['2', 'multi\nline', ''] },
    ]);
  });

  it('keeps Persian text and reports an unclosed quote with its line', () => {
    expect(parseCsv('نام,استان\nعلی رضایی,یزد')[1]!.cells).toEqual(['علی رضایی', 'یزد']);
    expect(() => parseCsv('a\n"open')).toThrow(/line 2: a quoted field is not closed/);
  });
});
