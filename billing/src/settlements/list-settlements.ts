// The distribution company's settlements as staff read them, newest period first: each with the
// figures in force (a corrected settlement shows its latest correction, billing/README.md,
// "Corrections") and its reconciliation. Rials and Wh are decimal strings. Installations by id: their
// codes and provinces are the registry's, which the caller reads.
import type pg from 'pg';
import type { ReconciliationStatus } from '../core/reconcile-settlement';

export interface SettlementListItem {
  id: number;
  installationId: number;
  periodFrom: string;
  periodUntil: string;
  reference: string;
  meteredWh: string;
  telemetryWh: string | null;
  amountRials: string;
  billedRials: string | null;
  status: ReconciliationStatus | null;
  paidOn: string | null;
  /** The correction whose figures are in force, or null for the imported ones. */
  correctionId: number | null;
}

export async function listSettlements(
  db: pg.Pool | pg.ClientBase,
  filter: { status?: string; installationIds?: readonly number[]; page: number; pageSize: number },
): Promise<{ items: SettlementListItem[]; total: number }> {
  const from = `FROM settlements_in_force s
    WHERE ($1::text IS NULL OR s.status::text = $1) AND ($2::int[] IS NULL OR s.installation_id = ANY($2))`;
  const params = [filter.status ?? null, filter.installationIds ?? null];
  const [rows, count] = await Promise.all([
    db.query(
      `SELECT s.id, s.installation_id, to_char(s.period_from, 'YYYY-MM-DD') AS period_from,
              to_char(s.period_until, 'YYYY-MM-DD') AS period_until, s.reference, s.metered_wh, s.telemetry_wh,
              s.amount_rials, s.billed_rials, s.status, to_char(s.paid_on, 'YYYY-MM-DD') AS paid_on, s.correction_id
         ${from} ORDER BY s.period_from DESC, s.id LIMIT $3 OFFSET $4`,
      [...params, filter.pageSize, (filter.page - 1) * filter.pageSize],
    ),
    db.query<{ n: string }>(`SELECT count(*) AS n ${from}`, params),
  ]);
  return {
    items: rows.rows.map((r) => ({
      id: r.id,
      installationId: r.installation_id,
      periodFrom: r.period_from,
      periodUntil: r.period_until,
      reference: r.reference,
      meteredWh: r.metered_wh,
      telemetryWh: r.telemetry_wh,
      amountRials: r.amount_rials,
      billedRials: r.billed_rials,
      status: r.status,
      paidOn: r.paid_on,
      correctionId: r.correction_id,
    })),
    total: Number(count.rows[0]!.n),
  };
}
