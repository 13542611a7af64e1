// Payouts of a closed month: the bank transfer batch (CSV: Sheba, amount in Rials, name, reference),
// its summary reconciled against the statements, and marking it paid, once.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { BillingError, monthStatus } from './run-month';
import type { MonthId } from './core/solar-hijri';

export interface PayoutSummary {
  month: MonthId;
  reference: string;
  status: 'CREATED' | 'PAID';
  rows: number;
  totalRials: string;
  /** Payable, but not in the file: the beneficiary has no Sheba on record. */
  withheld: { beneficiaries: number; rials: string };
  statementsPayableRials: string;
  /** File + withheld = the statements' payable total = the month's payable total. */
  reconciles: boolean;
  sha256: string;
  createdAt: string;
  paidAt: string | null;
}

const csvField = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
export const batchReference = (month: MonthId) => `SOLAR-${month}`;
const rowReference = (month: MonthId, beneficiaryId: number) =>
  `SOLAR-${month}-${String(beneficiaryId).padStart(7, '0')}`;

interface BatchContent {
  csv: string;
  rows: number;
  totalRials: bigint;
  withheld: { beneficiaries: number; rials: bigint };
  statementsPayable: bigint;
  monthPayable: bigint;
}

/** The batch as the statements define it: the same closed month always gives the same bytes. */
async function batchContent(db: pg.ClientBase, month: MonthId): Promise<BatchContent> {
  const { rows } = await db.query<{
    beneficiary_id: number;
    sheba: string | null;
    full_name: string;
    payable_rials: string;
  }>(
    `SELECT s.beneficiary_id, b.sheba, b.full_name, s.payable_rials FROM statements s JOIN beneficiaries b ON b.id = s.beneficiary_id
      WHERE s.month = $1 AND s.payable_rials > 0 ORDER BY s.beneficiary_id`,
    [month],
  );
  const billed = await db.query<{ payable_rials: string }>(
    'SELECT payable_rials FROM billing_months WHERE month = $1',
    [month],
  );
  let csv = 'sheba,amount_rials,name,reference\r\n';
  let count = 0;
  let total = 0n;
  const withheld = { beneficiaries: 0, rials: 0n };
  let statementsPayable = 0n;
  for (const row of rows) {
    const amount = BigInt(row.payable_rials);
    statementsPayable += amount;
    if (!row.sheba) {
      withheld.beneficiaries += 1;
      withheld.rials += amount;
      continue;
    }
    csv += `${row.sheba},${amount},${csvField(row.full_name)},${rowReference(month, row.beneficiary_id)}\r\n`;
    count += 1;
    total += amount;
  }
  return {
    csv,
    rows: count,
    totalRials: total,
    withheld,
    statementsPayable,
    monthPayable: BigInt(billed.rows[0]?.payable_rials ?? '0'),
  };
}

function summaryOf(
  month: MonthId,
  content: BatchContent,
  batch: { status: 'CREATED' | 'PAID'; sha256: string; created_at: Date; paid_at: Date | null },
): PayoutSummary {
  return {
    month,
    reference: batchReference(month),
    status: batch.status,
    rows: content.rows,
    totalRials: content.totalRials.toString(),
    withheld: { beneficiaries: content.withheld.beneficiaries, rials: content.withheld.rials.toString() },
    statementsPayableRials: content.statementsPayable.toString(),
    reconciles:
      content.totalRials + content.withheld.rials === content.statementsPayable &&
      content.statementsPayable === content.monthPayable &&
      createHash('sha256').update(content.csv).digest('hex') === batch.sha256,
    sha256: batch.sha256,
    createdAt: batch.created_at.toISOString(),
    paidAt: batch.paid_at?.toISOString() ?? null,
  };
}

/** Creates the month's batch (once; asking again returns the same batch) and returns its file and summary. */
export async function payoutBatch(
  pool: pg.Pool,
  month: MonthId,
  actor: string,
  options: { create: boolean },
): Promise<{ csv: string; summary: PayoutSummary }> {
  const db = await pool.connect();
  try {
    const status = await monthStatus(db, month);
    if (status === null) throw new BillingError('not_found', `${month} has not been billed`);
    if (status === 'DRAFT') throw new BillingError('not_closed', `${month} is a draft: close it before paying it`);
    const content = await batchContent(db, month);
    if (options.create) {
      const sha256 = createHash('sha256').update(content.csv).digest('hex');
      const inserted = await db.query(
        `INSERT INTO payout_batches (month, reference, rows, total_rials, sha256, created_by) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (month) DO NOTHING`,
        [month, batchReference(month), content.rows, content.totalRials.toString(), sha256, actor],
      );
      if (inserted.rowCount === 1)
        await db.query(
          `INSERT INTO audit_log (actor, action, entity, entity_id, after) VALUES ($1, 'payout.create', 'payout_batch', $2, $3)`,
          [actor, month, JSON.stringify({ rows: content.rows, totalRials: content.totalRials.toString(), sha256 })],
        );
    }
    const batch = await db.query<{
      status: 'CREATED' | 'PAID';
      sha256: string;
      created_at: Date;
      paid_at: Date | null;
    }>('SELECT status, sha256, created_at, paid_at FROM payout_batches WHERE month = $1', [month]);
    if (!batch.rows[0]) throw new BillingError('not_found', `${month} has no payout batch yet`);
    return { csv: content.csv, summary: summaryOf(month, content, batch.rows[0]) };
  } finally {
    db.release();
  }
}

/** Records that the bank executed the batch. Marking it again changes nothing: nothing is paid twice. */
export async function markPaid(pool: pg.Pool, month: MonthId, actor: string): Promise<{ alreadyPaid: boolean }> {
  const db = await pool.connect();
  try {
    await db.query('BEGIN');
    const batch = await db.query<{ status: string }>('SELECT status FROM payout_batches WHERE month = $1 FOR UPDATE', [
      month,
    ]);
    if (!batch.rows[0]) throw new BillingError('not_found', `${month} has no payout batch: create it first`);
    if (batch.rows[0].status === 'PAID') {
      await db.query('ROLLBACK');
      return { alreadyPaid: true };
    }
    await db.query(`UPDATE payout_batches SET status = 'PAID', paid_at = now(), paid_by = $2 WHERE month = $1`, [
      month,
      actor,
    ]);
    await db.query(`UPDATE billing_months SET status = 'PAID' WHERE month = $1`, [month]);
    await db.query(
      `INSERT INTO audit_log (actor, action, entity, entity_id) VALUES ($1, 'payout.paid', 'payout_batch', $2)`,
      [actor, month],
    );
    await db.query('COMMIT');
    return { alreadyPaid: false };
  } catch (error) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    db.release();
  }
}
