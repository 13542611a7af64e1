// A closed month's figures for the program report, read from the ledger: the month's totals as
// billing recorded them, the deductions and late-data adjustments summed from its bills, the
// figures by province, the people its statements paid a share to, and its payout batch. The
// report shows these numbers and no other computation of them (the cash position is billing's
// cashPosition()). A closed month's ledger never changes, so neither do these.
import type pg from 'pg';
import type { MonthId } from '../../lib/program/solar-hijri';
import { BillingError } from './errors';

export interface MonthReportProvince {
  province: string;
  installations: number;
  dcKwp: number;
  energyWh: number;
  grossRials: bigint;
  deductionsRials: bigint;
  netRials: bigint;
  /** Installations whose data was incomplete this month. */
  incomplete: number;
}
export interface MonthReportFigures {
  month: MonthId;
  status: 'CLOSED' | 'PAID';
  closedAt: Date | null;
  installations: number;
  beneficiaries: number;
  energyWh: number;
  grossRials: bigint;
  adjustmentRials: bigint;
  loanRials: bigint;
  feeRials: bigint;
  netRials: bigint;
  poolRials: bigint;
  payableRials: bigint;
  incomplete: number;
  provinces: MonthReportProvince[];
  /**
   * People with a share in the month's bills (a line on its statements): all of them, and by the
   * province of the installation they share in (one person may count in two provinces, once in
   * all) — the program's people "receiving income" that month.
   */
  people: { total: number; byProvince: Record<string, number> };
  payout: {
    status: 'CREATED' | 'PAID';
    rows: number;
    totalRials: bigint;
    paidAt: Date | null;
    withheldRials: bigint;
  } | null;
}

export async function monthReportFigures(db: pg.Pool | pg.ClientBase, month: MonthId): Promise<MonthReportFigures> {
  const head = await db.query(
    `SELECT m.*, sum(b.adjustment_rials)::text AS adjustment_sum, sum(b.loan_rials)::text AS loan_sum, sum(b.fee_rials)::text AS fee_sum
       FROM billing_months m LEFT JOIN installation_bills b ON b.month = m.month WHERE m.month = $1 GROUP BY m.month`,
    [month],
  );
  const m = head.rows[0];
  if (!m) throw new BillingError('not_found', `${month} has not been billed`);
  if (m.status === 'DRAFT')
    throw new BillingError('not_closed', `${month} is a draft: its report comes once it is closed`);
  const [provinces, people, payout] = await Promise.all([
    db.query(
      `SELECT i.province_code AS code, count(*)::int AS installations, sum(i.dc_capacity_kwp)::float8 AS kwp, sum(b.energy_wh)::text AS energy_wh,
              sum(b.gross_rials)::text AS gross, sum(b.loan_rials + b.fee_rials)::text AS deductions, sum(b.net_rials)::text AS net,
              count(*) FILTER (WHERE b.incomplete)::int AS incomplete
         FROM installation_bills b JOIN installation_summaries i ON i.id = b.installation_id
        WHERE b.month = $1 GROUP BY i.province_code ORDER BY i.province_code`,
      [month],
    ),
    db.query<{ code: string | null; people: number }>(
      `SELECT i.province_code AS code, count(DISTINCT l.beneficiary_id)::int AS people
         FROM statement_lines l JOIN installation_summaries i ON i.id = l.installation_id
        WHERE l.month = $1 GROUP BY ROLLUP (i.province_code)`,
      [month],
    ),
    db.query(
      'SELECT status, rows, total_rials::text, paid_at, withheld_rials::text FROM payout_batches WHERE month = $1',
      [month],
    ),
  ]);
  const b = payout.rows[0];
  return {
    month,
    status: m.status,
    closedAt: m.closed_at,
    installations: m.installations,
    beneficiaries: m.beneficiaries,
    energyWh: Number(m.energy_wh),
    grossRials: BigInt(m.gross_rials),
    adjustmentRials: BigInt(m.adjustment_sum ?? 0),
    loanRials: BigInt(m.loan_sum ?? 0),
    feeRials: BigInt(m.fee_sum ?? 0),
    netRials: BigInt(m.net_rials),
    poolRials: BigInt(m.pool_rials),
    payableRials: BigInt(m.payable_rials),
    incomplete: m.incomplete,
    provinces: provinces.rows.map((p) => ({
      province: p.code,
      installations: p.installations,
      dcKwp: Number(p.kwp ?? 0),
      energyWh: Number(p.energy_wh),
      grossRials: BigInt(p.gross),
      deductionsRials: BigInt(p.deductions),
      netRials: BigInt(p.net),
      incomplete: p.incomplete,
    })),
    people: {
      total: people.rows.find((r) => r.code === null)?.people ?? 0,
      byProvince: Object.fromEntries(people.rows.filter((r) => r.code !== null).map((r) => [r.code, r.people])),
    },
    payout: b
      ? {
          status: b.status,
          rows: b.rows,
          totalRials: BigInt(b.total_rials),
          paidAt: b.paid_at,
          withheldRials: BigInt(b.withheld_rials),
        }
      : null,
  };
}
