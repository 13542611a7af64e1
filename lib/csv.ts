// CSV in and out. Writing: the one CSV writer for every file the platform hands out (bank payout
// files, device credentials, exports). Its output is safe to open in a spreadsheet and to read with a naive line splitter:
// - a text that a spreadsheet would evaluate (starting with = + - @, their full-width forms, or a
//   tab/CR, also after leading blanks) is prefixed with ' so it stays text (OWASP "CSV injection");
// - control characters (CR, LF, tab, U+2028/9...) become spaces, so no value can start a new row
//   even for a reader that ignores quoting; the platform's fields are single-line by nature;
// - a field with a delimiter, a quote or surrounding blanks is quoted (RFC 4180).
// Numbers are written as they are: a negative amount is a number, not a formula.
export type CsvValue = string | number | bigint;

const CONTROL = /[\p{Cc}\u2028\u2029]/gu;
const FORMULA_START = /^\s*[=+\-@\uff1d\uff0b\uff0d\uff20]/;

export function csvField(value: CsvValue): string {
  if (typeof value !== 'string') return String(value);
  const formulaByControl = /^[\t\r]/.test(value);
  let text = value.replace(CONTROL, ' ');
  if (formulaByControl || FORMULA_START.test(text)) text = `'${text}`;
  return /[",;]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One record, CRLF-terminated (RFC 4180; what banks' import tools expect). */
export const csvRecord = (values: readonly CsvValue[]): string => `${values.map(csvField).join(',')}\r\n`;

export const csvDocument = (header: readonly string[], rows: Iterable<readonly CsvValue[]>): string => {
  let text = csvRecord(header);
  for (const row of rows) text += csvRecord(row);
  return text;
};

// Reading: RFC 4180 CSV, quoted fields with commas, quotes ("") and line breaks; CRLF or LF; a UTF-8 BOM
// (Excel's) is dropped. Pure.
export interface CsvRow {
  line: number;
  cells: string[];
}

export function parseCsv(text: string): CsvRow[] {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const rows: CsvRow[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (quoted) {
      if (c === '"' && src[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        cell += c;
      }
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      cells.push(cell);
      if (cells.some((x) => x.trim() !== '')) rows.push({ line: rowLine, cells });
      cells = [];
      cell = '';
      line++;
      rowLine = line;
    } else cell += c;
  }
  if (quoted) throw new Error(`line ${rowLine}: a quoted field is not closed`);
  cells.push(cell);
  if (cells.some((x) => x.trim() !== '')) rows.push({ line: rowLine, cells });
  return rows;
}

/** A refused row of an imported CSV file: its line, the column at fault and why. */
export interface CsvRowError {
  line: number;
  column: string;
  reason: string;
}
/** What an import did or, on a dry run, would do with a CSV file's rows. */
export interface CsvImportCounts {
  dryRun: boolean;
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  errors: CsvRowError[];
}
