// Each loan's balance: the principal minus what closed months repaid (the same sum billing deducts
// from, `repaidBefore`). Drafts repay nothing until their month closes; a statement shows the
// balance its own month's installment leaves.
import type pg from 'pg';
import { REPAID_BEFORE, repaidBefore } from './program-snapshot';

export interface LoanBalance {
  repaidRials: bigint;
  balanceRials: bigint;
}

/** What closed months have repaid of loan `l` (a row of `loans l`), as SQL: for dashboards and reports. */
export const LOAN_REPAID_SQL = repaidBefore(`'9999-99'`);

/** Repaid and outstanding per loan id, for the given loans. */
export async function loanBalances(db: pg.Pool | pg.ClientBase, loanIds: readonly number[]) {
  const { rows } = await db.query<{ id: number; principal_rials: string; repaid: string }>(
    `SELECT l.id, l.principal_rials, ${LOAN_REPAID_SQL} AS repaid FROM loans l WHERE l.id = ANY($1::int[])`,
    [loanIds],
  );
  return new Map<number, LoanBalance>(
    rows.map((r) => [
      r.id,
      { repaidRials: BigInt(r.repaid), balanceRials: BigInt(r.principal_rials) - BigInt(r.repaid) },
    ]),
  );
}

export interface LoanOnStatement {
  reference: string;
  /** This month's installment as deducted (so far, in a month still running). */
  deductedRials: bigint;
  /** What remains owed once this month's deduction is counted. */
  balanceRials: bigint;
}

/**
 * The loans whose balance a month's statement changes (something was deducted), per installation:
 * the installment and what remains after it.
 */
export async function loansOnStatement(
  db: pg.Pool | pg.ClientBase,
  month: string,
  installationIds: readonly number[],
): Promise<Map<number, LoanOnStatement[]>> {
  const { rows } = await db.query<{ installation_id: number; reference: string; deducted: string; balance: string }>(
    `SELECT l.installation_id, l.reference, d.deducted_rials AS deducted,
            l.principal_rials - ${REPAID_BEFORE} - d.deducted_rials AS balance
       FROM loan_deductions d JOIN loans l ON l.id = d.loan_id
      WHERE d.month = $1 AND l.installation_id = ANY($2::int[]) AND d.deducted_rials > 0
      ORDER BY l.id`,
    [month, installationIds],
  );
  const out = new Map<number, LoanOnStatement[]>();
  for (const r of rows) {
    const list = out.get(r.installation_id) ?? [];
    list.push({ reference: r.reference, deductedRials: BigInt(r.deducted), balanceRials: BigInt(r.balance) });
    out.set(r.installation_id, list);
  }
  return out;
}
