// A beneficiary's statements as billing recorded them: the one read of the ledger behind the
// portal's pages and the API's /me/statements (one query each, one shape). Rials are bigints;
// a bill's detail is as stored (JSON: its Rials are decimal text). Lines carry the installation's
// and the share's ids: their codes, names and dates are the registry's to give.
import type pg from 'pg';
import type { MonthId } from '../../lib/program/solar-hijri';

export interface StatementHead {
  month: MonthId;
  status: 'DRAFT' | 'CLOSED' | 'PAID';
  /** A draft's instant "to date" (a running month), null for a whole month. */
  toDateAt: Date | null;
  earnedRials: bigint;
  carriedInRials: bigint;
  payableRials: bigint;
  carriedOutRials: bigint;
  /** When the month's bank batch was recorded as paid (null: not yet). */
  paidAt: Date | null;
}

/** A tariff segment of a bill, as its detail keeps it. */
export interface StoredSegment {
  contract: string;
  fromDate: string;
  toDate: string;
  wh: number;
  rials: string;
  rialPerKwh: number;
  percent: number;
  contractYear: number;
}
/** An adjustment (late data, a settlement's difference) of a bill, as its detail keeps it. */
export interface StoredAdjustment {
  forMonth: MonthId;
  wh: number;
  rials: string;
  reason: string;
  settlementId?: number;
}
/** The bill's explanation (ledger-writer.ts writes it): segments, adjustments, loans, fee, pool, counters. */
export interface StoredBillDetail {
  segments?: StoredSegment[];
  adjustments?: StoredAdjustment[];
  [part: string]: unknown;
}

/** An installation's month, as billed. */
export interface BillFigures {
  energyWh: number;
  grossRials: bigint;
  adjustmentRials: bigint;
  incomeRials: bigint;
  loanRials: bigint;
  feeRials: bigint;
  netRials: bigint;
  poolRials: bigint;
  incomplete: boolean;
  implausible: boolean;
}

export interface StatementLine {
  installationId: number;
  shareId: number;
  weightW: number;
  activeDays: number;
  rials: bigint;
  /** How many beneficiaries the installation's month was shared among. */
  people: number;
  bill: BillFigures;
  detail: StoredBillDetail;
}

type Db = Pick<pg.Pool, 'query'>;

/** A beneficiary's statements' heads, with `more` columns. */
const heads = (
  more = '',
) => `SELECT s.month, m.status::text AS status, m.to_date_at, s.earned_rials::text, s.carried_in_rials::text,
       s.payable_rials::text, s.carried_out_rials::text, pb.paid_at${more}
  FROM statements s JOIN billing_months m ON m.month = s.month
  LEFT JOIN payout_batches pb ON pb.month = s.month AND pb.status = 'PAID'
 WHERE s.beneficiary_id = $1`;
interface HeadRow {
  month: string;
  status: StatementHead['status'];
  to_date_at: Date | null;
  earned_rials: string;
  carried_in_rials: string;
  payable_rials: string;
  carried_out_rials: string;
  paid_at: Date | null;
}
const head = (r: HeadRow): StatementHead => ({
  month: r.month,
  status: r.status,
  toDateAt: r.to_date_at,
  earnedRials: BigInt(r.earned_rials),
  carriedInRials: BigInt(r.carried_in_rials),
  payableRials: BigInt(r.payable_rials),
  carriedOutRials: BigInt(r.carried_out_rials),
  paidAt: r.paid_at,
});

/** A beneficiary's statements, newest first (at most `limit`). */
export async function statementsOf(db: Db, beneficiaryId: number, limit?: number): Promise<StatementHead[]> {
  const { rows } = await db.query<HeadRow>({
    name: limit === undefined ? 'statements-of' : 'statements-of-latest',
    text: `${heads()} ORDER BY s.month DESC${limit === undefined ? '' : ' LIMIT $2'}`,
    values: limit === undefined ? [beneficiaryId] : [beneficiaryId, limit],
  });
  return rows.map(head);
}

// The lines of statement `s` (a row of `statements s`) as one JSON array, Rials as text: a page
// reads a statement in one query, one round trip, which on payday (cores taken by PIN checks) is
// what its latency is made of.
const LINES = `COALESCE((SELECT json_agg(json_build_object(
         'installationId', l.installation_id, 'shareId', l.share_id, 'weightW', l.weight_w, 'activeDays', l.active_days,
         'rials', l.rials::text, 'energyWh', b.energy_wh::text, 'grossRials', b.gross_rials::text,
         'adjustmentRials', b.adjustment_rials::text, 'incomeRials', b.income_rials::text, 'loanRials', b.loan_rials::text,
         'feeRials', b.fee_rials::text, 'netRials', b.net_rials::text, 'poolRials', b.pool_rials::text,
         'incomplete', b.incomplete, 'implausible', b.implausible, 'detail', b.detail,
         'people', (SELECT count(DISTINCT x.beneficiary_id) FROM statement_lines x
                     WHERE x.month = l.month AND x.installation_id = l.installation_id))
         ORDER BY l.installation_id, l.share_id)
    FROM statement_lines l JOIN installation_bills b ON b.month = l.month AND b.installation_id = l.installation_id
   WHERE l.month = s.month AND l.beneficiary_id = s.beneficiary_id), '[]') AS lines`;
interface LineJson {
  installationId: number;
  shareId: number;
  weightW: number;
  activeDays: number;
  rials: string;
  energyWh: string;
  grossRials: string;
  adjustmentRials: string;
  incomeRials: string;
  loanRials: string;
  feeRials: string;
  netRials: string;
  poolRials: string;
  incomplete: boolean;
  implausible: boolean;
  detail: StoredBillDetail;
  people: number;
}
const line = (r: LineJson): StatementLine => ({
  installationId: r.installationId,
  shareId: r.shareId,
  weightW: r.weightW,
  activeDays: r.activeDays,
  rials: BigInt(r.rials),
  people: r.people,
  bill: {
    energyWh: Number(r.energyWh),
    grossRials: BigInt(r.grossRials),
    adjustmentRials: BigInt(r.adjustmentRials),
    incomeRials: BigInt(r.incomeRials),
    loanRials: BigInt(r.loanRials),
    feeRials: BigInt(r.feeRials),
    netRials: BigInt(r.netRials),
    poolRials: BigInt(r.poolRials),
    incomplete: r.incomplete,
    implausible: r.implausible,
  },
  detail: r.detail,
});

/** A beneficiary's statement for one month with its lines (by installation, then share), or null. */
export async function statementOf(
  db: Db,
  beneficiaryId: number,
  month: MonthId,
): Promise<{ head: StatementHead; lines: StatementLine[] } | null> {
  const { rows } = await db.query<HeadRow & { lines: LineJson[] }>({
    name: 'statement-of',
    text: `${heads(`, ${LINES}`)} AND s.month = $2`,
    values: [beneficiaryId, month],
  });
  const row = rows[0];
  return row ? { head: head(row), lines: row.lines.map(line) } : null;
}
