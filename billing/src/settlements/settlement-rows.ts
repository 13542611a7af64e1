// The distribution company's settlement file, row by row: parsed and checked without touching the
// database, so a dry run and a real import report exactly the same errors. Pure.
//
// Columns (header names, any order; Persian or Arabic-Indic digits and thousands separators welcome):
//   installation_code | export_meter   which installation (by our code, or by their meter number)
//   period_start, period_end           their period, Solar Hijri dates, both days included
//   metered_kwh                        export measured by their meter (up to 3 decimals)
//   amount_rials                       what they settle for the period (whole Rials)
//   reference                          their reference for the settlement
//   paid_on                            optional: the Solar Hijri date the money arrived
import { toAsciiDigits } from '../../../lib/identifiers/digits';
import type { CsvRow, CsvRowError } from '../../../lib/csv';
import { nextDate, solarHijriDate } from '../../../lib/program/solar-hijri';

export interface SettlementRow {
  line: number;
  /** Exactly one of the two identifies the installation. */
  installationCode: string | null;
  exportMeter: string | null;
  /** Tehran civil dates: [periodFrom, periodUntil). */
  periodFrom: string;
  periodUntil: string;
  meteredWh: bigint;
  amountRials: bigint;
  reference: string;
  paidOn: string | null;
}

export const SETTLEMENT_COLUMNS = [
  'installation_code',
  'export_meter',
  'period_start',
  'period_end',
  'metered_kwh',
  'amount_rials',
  'reference',
  'paid_on',
] as const;
const REQUIRED = ['period_start', 'period_end', 'metered_kwh', 'amount_rials', 'reference'];
/** Settlement periods are two months; a longer one is almost certainly a typo in a date. */
export const MAX_PERIOD_DAYS = 186;
const CODE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;

class CellError extends Error {
  constructor(
    readonly column: string,
    message: string,
  ) {
    super(message);
  }
}

const plainNumber = (raw: string) =>
  toAsciiDigits(raw)
    .trim()
    .replace(/[٬,\s]/g, '')
    .replace('٫', '.');

function date(column: string, raw: string): string {
  try {
    return solarHijriDate(toAsciiDigits(raw));
  } catch (error) {
    throw new CellError(column, (error as Error).message);
  }
}

/** kWh with up to three decimals → whole Wh, exactly (no floats). */
function meteredWh(raw: string): bigint {
  const text = plainNumber(raw);
  const m = /^(\d{1,12})(?:\.(\d{1,3}))?$/.exec(text);
  if (!m) throw new CellError('metered_kwh', `must be kWh ≥ 0 with at most 3 decimals, got '${raw}'`);
  return BigInt(m[1]!) * 1000n + BigInt((m[2] ?? '').padEnd(3, '0'));
}

function rials(raw: string): bigint {
  const text = plainNumber(raw);
  if (!/^\d{1,18}$/.test(text)) throw new CellError('amount_rials', `must be whole Rials ≥ 0, got '${raw}'`);
  return BigInt(text);
}

const days = (from: string, until: string) => (Date.parse(until) - Date.parse(from)) / 86_400_000;

function parseRow(line: number, cells: Record<string, string>): SettlementRow {
  const code = cells.installation_code?.trim() || null;
  const meter = toAsciiDigits(cells.export_meter ?? '').trim() || null;
  if (!code === !meter)
    throw new CellError('installation_code', 'give either installation_code or export_meter (exactly one)');
  if (code && !CODE.test(code)) throw new CellError('installation_code', `'${code}' is not an installation code`);
  if (meter && !CODE.test(meter)) throw new CellError('export_meter', `'${meter}' is not a meter number`);
  const periodFrom = date('period_start', cells.period_start ?? '');
  const periodUntil = nextDate(date('period_end', cells.period_end ?? ''));
  if (periodUntil <= periodFrom) throw new CellError('period_end', 'must not be before period_start');
  if (days(periodFrom, periodUntil) > MAX_PERIOD_DAYS)
    throw new CellError('period_end', `the period is longer than ${MAX_PERIOD_DAYS} days; check the dates`);
  const reference = (cells.reference ?? '').trim();
  if (!reference || reference.length > 60) throw new CellError('reference', 'is required (at most 60 characters)');
  const paidOn = cells.paid_on?.trim() ? date('paid_on', cells.paid_on) : null;
  if (paidOn !== null && paidOn < periodFrom) throw new CellError('paid_on', 'is before the period starts');
  return {
    line,
    installationCode: code,
    exportMeter: meter,
    periodFrom,
    periodUntil,
    meteredWh: meteredWh(cells.metered_kwh ?? ''),
    amountRials: rials(cells.amount_rials ?? ''),
    reference,
    paidOn,
  };
}

/**
 * Every row checked; `errors` lists every problem by line and column. Two rows for one installation
 * whose periods overlap are refused (a settlement period is paid once); the key of a row is its
 * installation (or meter) and period start.
 */
export function parseSettlementRows(rows: readonly CsvRow[]): { rows: SettlementRow[]; errors: CsvRowError[] } {
  const [header, ...body] = rows;
  const names = header?.cells.map((h) => h.trim().toLowerCase()) ?? [];
  const missing = REQUIRED.filter((c) => !names.includes(c));
  if (!names.includes('installation_code') && !names.includes('export_meter')) missing.unshift('installation_code');
  const unknown = names.filter((n) => !(SETTLEMENT_COLUMNS as readonly string[]).includes(n));
  if (!header || missing.length > 0 || unknown.length > 0)
    return {
      rows: [],
      errors: [
        {
          line: header?.line ?? 1,
          column: [...missing, ...unknown].join(', '),
          reason:
            `the header must name ${REQUIRED.join(', ')}, and installation_code or export_meter (optional: ` +
            `paid_on)${missing.length ? `; missing ${missing.join(', ')}` : ''}${unknown.length ? `; unknown ${unknown.join(', ')}` : ''}`,
        },
      ],
    };
  const out: SettlementRow[] = [];
  const errors: CsvRowError[] = [];
  for (const row of body) {
    const cells = Object.fromEntries(names.map((n, k) => [n, row.cells[k] ?? '']));
    try {
      out.push(parseRow(row.line, cells));
    } catch (error) {
      if (!(error instanceof CellError)) throw error;
      errors.push({ line: row.line, column: error.column, reason: error.message });
    }
  }
  const byInstallation = new Map<string, SettlementRow[]>();
  for (const row of out) {
    const key = row.installationCode ? `code:${row.installationCode}` : `meter:${row.exportMeter}`;
    byInstallation.set(key, [...(byInstallation.get(key) ?? []), row]);
  }
  for (const list of byInstallation.values()) {
    list.sort((a, b) => (a.periodFrom < b.periodFrom ? -1 : a.periodFrom > b.periodFrom ? 1 : a.line - b.line));
    for (let i = 1; i < list.length; i++)
      if (list[i]!.periodFrom < list[i - 1]!.periodUntil)
        errors.push({
          line: list[i]!.line,
          column: 'period_start',
          reason: `overlaps the period on line ${list[i - 1]!.line} for the same installation`,
        });
  }
  errors.sort((a, b) => a.line - b.line);
  return { rows: out, errors };
}
