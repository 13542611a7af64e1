// Each loan's balance for operators: the principal minus what closed months repaid (the same sum
// billing deducts from, `REPAID_BEFORE`). Drafts repay nothing until their month closes.
import type pg from 'pg';
import { REPAID_BEFORE } from './program-snapshot';

export interface LoanBalance {
  repaidRials: bigint;
  balanceRials: bigint;
}

/** Repaid and outstanding per loan id, for the given loans. */
export async function loanBalances(db: pg.Pool | pg.ClientBase, loanIds: readonly number[]) {
  const { rows } = await db.query<{ id: number; principal_rials: string; repaid: string }>(
    `SELECT l.id, l.principal_rials, ${REPAID_BEFORE} AS repaid FROM loans l WHERE l.id = ANY($2::int[])`,
    ['9999-99', loanIds],
  );
  return new Map<number, LoanBalance>(
    rows.map((r) => [
      r.id,
      { repaidRials: BigInt(r.repaid), balanceRials: BigInt(r.principal_rials) - BigInt(r.repaid) },
    ]),
  );
}
