// The installations of a month an operator must look at: incomplete (a counter's energy is not
// known yet) or implausible (a counter read more than its inverter could produce, held until an
// operator decides), each with its inverters' flags naming the readings that made it so.
import type pg from 'pg';

export interface AttentionInverter {
  serial: string;
  wh: number;
  heldWh: number;
  /** The most a decision may bill for this inverter's month (null when there is nothing to decide). */
  boundWh: number | null;
  flags: Record<string, unknown>[];
  review: Record<string, unknown> | null;
}
export interface AttentionRow {
  code: string;
  province: string;
  incomplete: boolean;
  implausible: boolean;
  inverters: AttentionInverter[];
  /** Late changes to closed months held for review (late-data.ts): decide with `review FOR_MONTH SERIAL`. */
  heldLateData: { forMonth: string; wh: number; rials: string; reason: string }[];
}

/** Implausible installations first (they block the close), then incomplete ones; by code. */
export async function monthAttention(
  db: pg.Pool | pg.ClientBase,
  month: string,
  page: { limit: number; offset: number },
): Promise<{ rows: AttentionRow[]; total: number }> {
  const where = 'b.month = $1 AND (b.incomplete OR b.implausible)';
  const from = 'installation_bills b JOIN installation_summaries i ON i.id = b.installation_id';
  const [rows, count] = await Promise.all([
    db.query<{
      code: string;
      province: string;
      incomplete: boolean;
      implausible: boolean;
      counters: Record<
        string,
        { wh: number; heldWh?: number; boundWh?: number; flags: Record<string, unknown>[]; review?: object }
      >;
      held: AttentionRow['heldLateData'] | null;
    }>(
      `SELECT i.code, i.province_code AS province, b.incomplete, b.implausible, b.detail->'counters' AS counters,
              b.detail->'heldLateData' AS held FROM ${from}
        WHERE ${where} ORDER BY b.implausible DESC, i.code LIMIT $2 OFFSET $3`,
      [month, page.limit, page.offset],
    ),
    db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${from} WHERE ${where}`, [month]),
  ]);
  return {
    total: count.rows[0]!.n,
    rows: rows.rows.map((r) => ({
      code: r.code,
      province: r.province,
      incomplete: r.incomplete,
      implausible: r.implausible,
      inverters: Object.entries(r.counters ?? {})
        .filter(([, c]) => c.flags.length > 0 || c.review)
        .map(([serial, c]) => ({
          serial,
          wh: c.wh,
          heldWh: c.heldWh ?? 0,
          boundWh: c.boundWh ?? null,
          flags: c.flags,
          review: (c.review as Record<string, unknown> | undefined) ?? null,
        })),
      heldLateData: r.held ?? [],
    })),
  };
}

/** One line per flag, for people: what happened and the readings involved. */
export function describeFlag(flag: Record<string, unknown>): string {
  const r = (at: unknown, wh: unknown) => `${String(at)} = ${Number(wh).toLocaleString('en-US')} Wh`;
  switch (flag.kind) {
    case 'no_readings':
      return 'no readings at all';
    case 'no_opening_reading':
      return `no reading before the start; first at ${String(flag.firstReadingAt)}`;
    case 'no_closing_reading':
      return `no reading after the end yet; last at ${String(flag.lastReadingAt)}`;
    case 'unconfirmed_reading':
      return `reading ${r(flag.at, flag.wh)} left the trend and has not come back or settled yet; waiting for the next readings`;
    case 'counter_jump':
      return `counter jumped from ${r(flag.fromAt, flag.fromWh)} to ${r(flag.at, flag.toWh)}: more than the rating can produce (not billed)`;
    case 'over_capacity':
      return (
        `${Number(flag.wh).toLocaleString('en-US')} Wh from ${String(flag.from)} to ${String(flag.to)} exceeds ` +
        `the rating's ${Number(flag.boundWh).toLocaleString('en-US')} Wh (excess not billed)`
      );
    case 'counter_reset':
      return `counter reset at ${String(flag.at)}: ${Number(flag.fromWh).toLocaleString('en-US')} → ${Number(flag.toWh).toLocaleString('en-US')} Wh`;
    case 'replacement':
      return `inverter replaced; first reading ${r(flag.at, flag.toWh)}`;
    case 'glitch':
      return `ignored ${(flag.ignored as unknown[]).length} reading(s) that left the trend and came back at ${String(flag.at)}`;
    default:
      return JSON.stringify(flag);
  }
}
