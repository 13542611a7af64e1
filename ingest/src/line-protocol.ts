// InfluxDB line protocol encoding (nanosecond timestamps). Pure.

const escapeKey = (s: string) => s.replace(/[,= \\]/g, (c) => `\\${c}`);
const escapeMeasurement = (s: string) => s.replace(/[, \\]/g, (c) => `\\${c}`);
// Inside a string field InfluxDB reads exactly two escapes, \" and \\: anything else (e.g. \n) is
// stored as written, so escaping a line break would store a literal backslash-n. A raw line break
// cannot be written either (it ends the line for the journal and for /write), so fields that may
// hold one are stored as JSON (events) or made visibly single-line (inspection copies) by callers.
const quoteString = (s: string) => {
  if (/[\r\n]/.test(s)) throw new RangeError('a line-protocol string field cannot hold a line break');
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
};

export type FieldValue = number | boolean | string | { integer: number };
export type Fields = Record<string, FieldValue | undefined>;

function encodeField(value: FieldValue): string {
  if (typeof value === 'number') return String(value); // always a float field: one type per field, whatever the device sent
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return quoteString(value);
  return `${value.integer}i`;
}

/** One line; tags in sorted key order (what InfluxDB prefers), undefined fields omitted. */
export function encodeLine(
  measurement: string,
  tags: Record<string, string>,
  fields: Fields,
  timestampNs: string,
): string {
  let line = escapeMeasurement(measurement);
  for (const key of Object.keys(tags).sort()) line += `,${escapeKey(key)}=${escapeKey(tags[key]!)}`;
  let sep = ' ';
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    line += `${sep}${escapeKey(key)}=${encodeField(value)}`;
    sep = ',';
  }
  return `${line} ${timestampNs}`;
}

export const msToNs = (ms: number): string => `${ms}000000`;
