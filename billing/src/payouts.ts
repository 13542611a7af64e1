// Payouts of a closed month: the bank transfer batch (CSV: Sheba, amount in Rials, name, reference),
// its summary reconciled against the statements, and marking it paid, once. Frozen at creation and
// never served when it does not reconcile: billing/README.md, "Payouts".
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { writeAudit } from '../../lib/audit';
import { csvDocument } from '../../lib/csv';
import { inTransaction, rollbackWith, withTransaction } from '../../lib/transaction';
import { payeesOf } from '../../registry/index';
import { BillingError } from './errors';
import { monthStatus } from './run-month';
import type { MonthId } from '../../lib/program/solar-hijri';
import { queueMonthSms } from './sms/outbox';

export interface PayoutSummary {
  month: MonthId;
  reference: string;
  status: 'CREATED' | 'PAID';
  rows: number;
  totalRials: string;
  /** Payable, but not in the file: the beneficiary had no Sheba on record when the batch was created. */
  withheld: { beneficiaries: number; rials: string };
  statementsPayableRials: string;
  /** File + withheld = the statements' payable total = the month's payable total, and the file is the one created. */
  reconciles: boolean;
  sha256: string;
  createdAt: string;
  paidAt: string | null;
}

interface PayoutRow {
  beneficiaryId: number;
  sheba: string;
  name: string;
  amountRials: bigint;
  reference: string;
}

export const batchReference = (month: MonthId) => `SOLAR-${month}`;
const rowReference = (month: MonthId, beneficiaryId: number) =>
  `SOLAR-${month}-${String(beneficiaryId).padStart(7, '0')}`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The bank file of a batch's rows: the same rows always give the same bytes. */
const renderFile = (rows: readonly PayoutRow[]) =>
  csvDocument(
    ['sheba', 'amount_rials', 'name', 'reference'],
    rows.map((r) => [r.sheba, r.amountRials, r.name, r.reference]),
  );

const sum = (values: Iterable<bigint>) => {
  let total = 0n;
  for (const v of values) total += v;
  return total;
};

async function statementsPayable(db: pg.ClientBase, month: MonthId): Promise<{ statements: bigint; month: bigint }> {
  const { rows } = await db.query<{ statements: string | null; month: string | null }>(
    `SELECT (SELECT sum(payable_rials) FROM statements WHERE month = $1)::text AS statements,
            (SELECT payable_rials FROM billing_months WHERE month = $1)::text AS month`,
    [month],
  );
  return { statements: BigInt(rows[0]?.statements ?? '0'), month: BigInt(rows[0]?.month ?? '0') };
}

/** Freezes the month's batch from its statements and the beneficiaries' bank details of now; once per month. */
async function createBatch(db: pg.ClientBase, month: MonthId, actor: string): Promise<void> {
  await inTransaction(db, async () => {
    const { rows } = await db.query<{ beneficiary_id: number; payable_rials: string }>(
      `SELECT beneficiary_id, payable_rials FROM statements WHERE month = $1 AND payable_rials > 0 ORDER BY beneficiary_id`,
      [month],
    );
    const payees = await payeesOf(
      db,
      rows.map((r) => r.beneficiary_id),
    );
    const transfers: PayoutRow[] = [];
    const withheld = { beneficiaries: 0, rials: 0n };
    for (const row of rows) {
      const amountRials = BigInt(row.payable_rials);
      const payee = payees.get(row.beneficiary_id)!;
      if (!payee.sheba) {
        withheld.beneficiaries += 1;
        withheld.rials += amountRials;
        continue;
      }
      const reference = rowReference(month, row.beneficiary_id);
      transfers.push({
        beneficiaryId: row.beneficiary_id,
        sheba: payee.sheba,
        name: payee.fullName,
        amountRials,
        reference,
      });
    }
    const total = sum(transfers.map((t) => t.amountRials));
    const digest = sha256(renderFile(transfers));
    const inserted = await db.query(
      `INSERT INTO payout_batches (month, reference, rows, total_rials, sha256, created_by, withheld_beneficiaries, withheld_rials)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (month) DO NOTHING`,
      [
        month,
        batchReference(month),
        transfers.length,
        total.toString(),
        digest,
        actor,
        withheld.beneficiaries,
        withheld.rials.toString(),
      ],
    );
    if (inserted.rowCount !== 1) return rollbackWith(undefined); // created concurrently: that batch stands
    await db.query(
      `INSERT INTO payout_rows (month, line, beneficiary_id, sheba, name, amount_rials, reference)
       SELECT $1, t.line, t.beneficiary_id, t.sheba, t.name, t.amount_rials, t.reference
         FROM unnest($2::int[], $3::text[], $4::text[], $5::bigint[], $6::text[]) WITH ORDINALITY
           AS t(beneficiary_id, sheba, name, amount_rials, reference, line)`,
      [
        month,
        transfers.map((t) => t.beneficiaryId),
        transfers.map((t) => t.sheba),
        transfers.map((t) => t.name),
        transfers.map((t) => t.amountRials.toString()),
        transfers.map((t) => t.reference),
      ],
    );
    await writeAudit(db, {
      actor,
      action: 'payout.create',
      entity: 'payout_batch',
      entityId: month,
      after: { rows: transfers.length, totalRials: total.toString(), sha256: digest },
    });
  });
}

/**
 * The month's batch (created first if `create` and it does not exist yet; asking again returns the
 * same batch): its file, rendered from the frozen rows, and its summary.
 */
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
    if (options.create) await createBatch(db, month, actor);
    const batch = await db.query<{
      status: 'CREATED' | 'PAID';
      rows: number;
      total_rials: string;
      sha256: string;
      withheld_beneficiaries: number;
      withheld_rials: string;
      created_at: Date;
      paid_at: Date | null;
    }>(
      'SELECT status, rows, total_rials, sha256, withheld_beneficiaries, withheld_rials, created_at, paid_at FROM payout_batches WHERE month = $1',
      [month],
    );
    const b = batch.rows[0];
    if (!b) throw new BillingError('not_found', `${month} has no payout batch yet`);
    const stored = await db.query<{
      beneficiary_id: number;
      sheba: string;
      name: string;
      amount_rials: string;
      reference: string;
    }>('SELECT beneficiary_id, sheba, name, amount_rials, reference FROM payout_rows WHERE month = $1 ORDER BY line', [
      month,
    ]);
    const rows: PayoutRow[] = stored.rows.map((r) => ({
      beneficiaryId: r.beneficiary_id,
      sheba: r.sheba,
      name: r.name,
      amountRials: BigInt(r.amount_rials),
      reference: r.reference,
    }));
    const csv = renderFile(rows);
    const total = sum(rows.map((r) => r.amountRials));
    const withheldRials = BigInt(b.withheld_rials);
    const payable = await statementsPayable(db, month);
    const summary: PayoutSummary = {
      month,
      reference: batchReference(month),
      status: b.status,
      rows: rows.length,
      totalRials: total.toString(),
      withheld: { beneficiaries: b.withheld_beneficiaries, rials: withheldRials.toString() },
      statementsPayableRials: payable.statements.toString(),
      reconciles:
        rows.length === b.rows &&
        total === BigInt(b.total_rials) &&
        sha256(csv) === b.sha256 &&
        total + withheldRials === payable.statements &&
        payable.statements === payable.month,
      sha256: b.sha256,
      createdAt: b.created_at.toISOString(),
      paidAt: b.paid_at?.toISOString() ?? null,
    };
    return { csv, summary };
  } finally {
    db.release();
  }
}

/** The bank file of the month's batch; refused when the batch does not reconcile (it is never handed out). */
export async function payoutFile(
  pool: pg.Pool,
  month: MonthId,
  actor: string,
  options: { create: boolean },
): Promise<{ csv: string; summary: PayoutSummary }> {
  const batch = await payoutBatch(pool, month, actor, options);
  if (!batch.summary.reconciles)
    throw new BillingError(
      'not_reconciled',
      `the payout batch of ${month} does not reconcile with its recorded total and digest or with the statements: it is not served; investigate the ledger`,
    );
  return batch;
}
/** Records that the bank executed the batch. Marking it again changes nothing: nothing is paid twice. */
export async function markPaid(pool: pg.Pool, month: MonthId, actor: string): Promise<{ alreadyPaid: boolean }> {
  return withTransaction<{ alreadyPaid: boolean }>(pool, async (db) => {
    const batch = await db.query<{ status: string }>('SELECT status FROM payout_batches WHERE month = $1 FOR UPDATE', [
      month,
    ]);
    if (!batch.rows[0]) throw new BillingError('not_found', `${month} has no payout batch: create it first`);
    if (batch.rows[0].status === 'PAID') return rollbackWith({ alreadyPaid: true });
    await db.query(`UPDATE payout_batches SET status = 'PAID', paid_at = now(), paid_by = $2 WHERE month = $1`, [
      month,
      actor,
    ]);
    await db.query(`UPDATE billing_months SET status = 'PAID' WHERE month = $1`, [month]);
    await queueMonthSms(db, month, 'PAID'); // with the payment: both happen or neither
    await writeAudit(db, { actor, action: 'payout.paid', entity: 'payout_batch', entityId: month });
    return { alreadyPaid: false };
  });
}
