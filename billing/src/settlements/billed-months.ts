// What closed billing months billed each installation, from the ledger: the month's gross energy
// and Rials plus the late-data adjustments that closed months recorded for it since. The one
// figure that reconciliation and the cash position compare with the distribution company's
// settlements (a closed month is never recomputed for them).
import type pg from 'pg';
import type { MonthId } from '../../../lib/program/solar-hijri';

/** Per installation and closed month: gross + late-data adjustments, and whether it was billed without all its readings. */
export const CLOSED_MONTHS_BILLED_SQL = `
  SELECT b.month, b.installation_id,
         b.energy_wh + COALESCE(a.wh, 0) AS wh, b.gross_rials + COALESCE(a.rials, 0) AS rials,
         b.incomplete, COALESCE((b.detail ->> 'unpricedWh')::bigint, 0) AS unpriced_wh
    FROM installation_bills b JOIN billing_months m ON m.month = b.month AND m.status <> 'DRAFT'
    LEFT JOIN LATERAL (
      SELECT sum(ea.energy_wh) AS wh, sum(ea.rials) AS rials
        FROM energy_adjustments ea JOIN billing_months am ON am.month = ea.month AND am.status <> 'DRAFT'
       WHERE ea.installation_id = b.installation_id AND ea.for_month = b.month) a ON true`;

export interface MonthBilledRecord {
  wh: number;
  rials: bigint;
  incomplete: boolean;
  unpricedWh: number;
}
/** A closed month in which an installation has no bill billed it nothing. */
export const NOTHING_BILLED: MonthBilledRecord = { wh: 0, rials: 0n, incomplete: false, unpricedWh: 0 };

/** Which of `months` are closed, and what each billed these installations (keyed `month/installationId`). */
export async function closedMonthsBilled(
  db: pg.ClientBase,
  months: readonly MonthId[],
  installationIds: readonly number[],
): Promise<{ closed: Set<MonthId>; billed: Map<string, MonthBilledRecord> }> {
  const closed = await db.query<{ month: MonthId }>(
    `SELECT month FROM billing_months WHERE month = ANY($1) AND status <> 'DRAFT'`,
    [months],
  );
  const { rows } = await db.query<{
    month: string;
    installation_id: number;
    wh: string;
    rials: string;
    incomplete: boolean;
    unpriced_wh: string;
  }>(`SELECT * FROM (${CLOSED_MONTHS_BILLED_SQL}) billed WHERE month = ANY($1) AND installation_id = ANY($2)`, [
    months,
    installationIds,
  ]);
  return {
    closed: new Set(closed.rows.map((r) => r.month)),
    billed: new Map(
      rows.map((r) => [
        `${r.month}/${r.installation_id}`,
        { wh: Number(r.wh), rials: BigInt(r.rials), incomplete: r.incomplete, unpricedWh: Number(r.unpriced_wh) },
      ]),
    ),
  };
}
