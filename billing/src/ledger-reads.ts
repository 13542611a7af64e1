// Staff's reads of the ledger (the API's /billing/months routes): the billed months' totals, a month
// by province and by installation, one installation's bill with the shares it was divided into; and
// for the platform's monitor, whether billing keeps up. A beneficiary's own statements are
// statement-reads.ts. Rials are bigints, as stored; instants Dates.
import type pg from 'pg';
import type { MonthId } from '../../lib/program/solar-hijri';
import type { MonthTotals } from './core/bill-month';
import type { BillFigures } from './statement-reads';

type Db = Pick<pg.Pool, 'query'>;

/** A billed month as stored: its run's totals, and when and how it was billed. */
export interface BilledMonth extends MonthTotals {
  month: MonthId;
  status: 'DRAFT' | 'CLOSED' | 'PAID';
  computedAt: Date;
  closedAt: Date | null;
  /** A draft's instant "to date" (a running month), null for a whole month. */
  toDateAt: Date | null;
  digest: string;
}

const MONTH_COLUMNS = `month, status::text AS status, computed_at, closed_at, to_date_at, digest, installations,
  beneficiaries, incomplete, implausible, energy_wh, gross_rials::text, net_rials::text, pool_rials::text,
  payable_rials::text`;

const billedMonth = (r: Record<string, unknown>): BilledMonth => ({
  month: r.month as MonthId,
  status: r.status as BilledMonth['status'],
  computedAt: r.computed_at as Date,
  closedAt: (r.closed_at as Date | null) ?? null,
  toDateAt: (r.to_date_at as Date | null) ?? null,
  digest: String(r.digest),
  installations: Number(r.installations),
  beneficiaries: Number(r.beneficiaries),
  incomplete: Number(r.incomplete),
  implausible: Number(r.implausible),
  energyWh: Number(r.energy_wh),
  grossRials: BigInt(r.gross_rials as string),
  netRials: BigInt(r.net_rials as string),
  poolRials: BigInt(r.pool_rials as string),
  payableRials: BigInt(r.payable_rials as string),
});

/** Every billed month, the latest first. */
export async function billedMonths(db: Db): Promise<BilledMonth[]> {
  return (await db.query(`SELECT ${MONTH_COLUMNS} FROM billing_months ORDER BY month DESC`)).rows.map(billedMonth);
}

/** One billed month, or null when it has not been billed. */
export async function billedMonthOf(db: Db, month: MonthId): Promise<BilledMonth | null> {
  const { rows } = await db.query(`SELECT ${MONTH_COLUMNS} FROM billing_months WHERE month = $1`, [month]);
  return rows[0] ? billedMonth(rows[0]) : null;
}

export interface ProvinceTotals {
  province: string;
  installations: number;
  energyWh: number;
  grossRials: bigint;
  netRials: bigint;
  poolRials: bigint;
  incomplete: number;
  implausible: number;
}

/** A month's bills summed by province (by code). */
export async function monthByProvince(db: Db, month: MonthId): Promise<ProvinceTotals[]> {
  const { rows } = await db.query(
    `SELECT i.province_code AS province, count(*)::int AS installations, sum(b.energy_wh)::bigint AS energy_wh,
            sum(b.gross_rials)::text AS gross_rials, sum(b.net_rials)::text AS net_rials,
            sum(b.pool_rials)::text AS pool_rials, count(*) FILTER (WHERE b.incomplete)::int AS incomplete,
            count(*) FILTER (WHERE b.implausible)::int AS implausible
       FROM installation_bills b JOIN installation_summaries i ON i.id = b.installation_id
      WHERE b.month = $1 GROUP BY i.province_code ORDER BY i.province_code`,
    [month],
  );
  return rows.map((r) => ({
    province: r.province,
    installations: r.installations,
    energyWh: Number(r.energy_wh),
    grossRials: BigInt(r.gross_rials),
    netRials: BigInt(r.net_rials),
    poolRials: BigInt(r.pool_rials),
    incomplete: r.incomplete,
    implausible: r.implausible,
  }));
}

export interface InstallationBillFigures extends BillFigures {
  code: string;
  province: string;
}

const BILL_COLUMNS = `i.code, i.province_code AS province, b.energy_wh, b.gross_rials::text, b.adjustment_rials::text,
  b.income_rials::text, b.loan_rials::text, b.fee_rials::text, b.net_rials::text, b.pool_rials::text, b.incomplete,
  b.implausible`;
const BILLS = 'installation_bills b JOIN installation_summaries i ON i.id = b.installation_id';

const installationBillFigures = (r: Record<string, unknown>): InstallationBillFigures => ({
  code: String(r.code),
  province: String(r.province),
  energyWh: Number(r.energy_wh),
  grossRials: BigInt(r.gross_rials as string),
  adjustmentRials: BigInt(r.adjustment_rials as string),
  incomeRials: BigInt(r.income_rials as string),
  loanRials: BigInt(r.loan_rials as string),
  feeRials: BigInt(r.fee_rials as string),
  netRials: BigInt(r.net_rials as string),
  poolRials: BigInt(r.pool_rials as string),
  incomplete: Boolean(r.incomplete),
  implausible: Boolean(r.implausible),
});

export interface InstallationBillFilter {
  province?: string;
  incomplete?: boolean;
  implausible?: boolean;
}

/** A page of a month's bills by installation code, and how many match. */
export async function installationBills(
  db: Db,
  month: MonthId,
  filter: InstallationBillFilter,
  page: { limit: number; offset: number },
): Promise<{ rows: InstallationBillFigures[]; total: number }> {
  const where =
    `b.month = $1 AND ($2::text IS NULL OR i.province_code = $2) AND ($3::bool IS NULL OR b.incomplete = $3) ` +
    `AND ($4::bool IS NULL OR b.implausible = $4)`;
  const params = [month, filter.province ?? null, filter.incomplete ?? null, filter.implausible ?? null];
  const [rows, count] = await Promise.all([
    db.query(`SELECT ${BILL_COLUMNS} FROM ${BILLS} WHERE ${where} ORDER BY i.code LIMIT $5 OFFSET $6`, [
      ...params,
      page.limit,
      page.offset,
    ]),
    db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${BILLS} WHERE ${where}`, params),
  ]);
  return { rows: rows.rows.map(installationBillFigures), total: count.rows[0]!.n };
}

export interface InstallationBill extends InstallationBillFigures {
  /** The bill's detail as stored (JSON: tariff segments, deductions, adjustments, counters). */
  detail: unknown;
  shares: { shareId: number; beneficiaryId: number; weightW: number; activeDays: number; rials: bigint }[];
}

/** One installation's bill in a month, with the shares it was divided into, or null when there is none. */
export async function installationBill(db: Db, month: MonthId, code: string): Promise<InstallationBill | null> {
  const { rows } = await db.query(`SELECT ${BILL_COLUMNS}, b.detail FROM ${BILLS} WHERE b.month = $1 AND i.code = $2`, [
    month,
    code,
  ]);
  if (!rows[0]) return null;
  const shares = await db.query(
    `SELECT l.share_id, l.beneficiary_id, l.weight_w, l.active_days, l.rials::text FROM statement_lines l
       JOIN installation_summaries i ON i.id = l.installation_id WHERE l.month = $1 AND i.code = $2 ORDER BY l.share_id`,
    [month, code],
  );
  return {
    ...installationBillFigures(rows[0]),
    detail: rows[0].detail,
    shares: shares.rows.map((r) => ({
      shareId: r.share_id,
      beneficiaryId: r.beneficiary_id,
      weightW: r.weight_w,
      activeDays: r.active_days,
      rials: BigInt(r.rials),
    })),
  };
}

export interface LedgerProgress {
  /** When billing last computed any month (the scheduler drafts the running month daily). */
  lastComputedAt: Date | null;
  /** `month`'s status, null when it was never billed. */
  monthStatus: BilledMonth['status'] | null;
  /** Payout batches created but not marked paid for more than the given days. */
  unpaidBatches: number;
}

/** For the platform's monitor: is billing running, is `month` closed, are bank batches left unpaid. */
export async function ledgerProgress(db: Db, month: MonthId, unpaidAfterDays: number): Promise<LedgerProgress> {
  const { rows } = await db.query<{ last_run: Date | null; status: BilledMonth['status'] | null; unpaid: string }>(
    `SELECT (SELECT max(computed_at) FROM billing_months) AS last_run,
            (SELECT status::text FROM billing_months WHERE month = $1) AS status,
            (SELECT count(*) FROM payout_batches WHERE status = 'CREATED' AND created_at < now() - make_interval(days => $2))
              AS unpaid`,
    [month, unpaidAfterDays],
  );
  const row = rows[0];
  return {
    lastComputedAt: row?.last_run ?? null,
    monthStatus: row?.status ?? null,
    unpaidBatches: Number(row?.unpaid ?? 0),
  };
}

/** The months closed (or since paid) in the last `days` days, in order. */
export async function monthsClosedWithin(db: Db, days: number): Promise<MonthId[]> {
  const { rows } = await db.query<{ month: MonthId }>(
    `SELECT month FROM billing_months
      WHERE status IN ('CLOSED', 'PAID') AND closed_at > now() - make_interval(days => $1) ORDER BY month`,
    [days],
  );
  return rows.map((r) => r.month);
}
