import { describe, expect, it } from 'vitest';
import { parseCsv } from './csv';

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
