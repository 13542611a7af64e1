// A beneficiary's statement for one month as people read it: what billing recorded (billing's
// `statementOf`) with what the registry knows of each line (the installation's code, name and
// rating, the share's days: the registry's `sharesOnStatementOf`) and the loans its installment
// changed. The portal's statement page and /me/statements/{month} both show this one read. The three reads go to PostgreSQL at once (each
// asks by the person, not by what another returned): on payday, when PIN checks take the cores,
// a page's latency is mostly its round trips.
import type pg from 'pg';
import {
  type LoanOnStatement,
  loansOnStatement,
  type StatementHead,
  type StatementLine,
  statementOf,
} from '../../billing';
import type { MonthId } from '../../lib/program/solar-hijri';
import { sharesOnStatementOf } from '../../registry';

export interface StatementLineRead extends StatementLine {
  installation: { code: string; name: string; capacityW: number };
  /** The share's first and last day (Tehran dates; last null while it runs on). */
  share: { firstDay: string; lastDay: string | null };
  loans: LoanOnStatement[];
}

export interface BeneficiaryStatement {
  head: StatementHead;
  lines: StatementLineRead[];
}

/** The statement with its lines by installation code, then share; null when the person has none that month. */
export async function beneficiaryStatement(
  sql: Pick<pg.Pool, 'query'>,
  beneficiaryId: number,
  month: MonthId,
): Promise<BeneficiaryStatement | null> {
  const [statement, own, loans] = await Promise.all([
    statementOf(sql, beneficiaryId, month),
    sharesOnStatementOf(sql, beneficiaryId),
    loansOnStatement(sql, beneficiaryId, month),
  ]);
  if (!statement) return null;
  // A line's share is the person's own (billing allocates a share to its holder, and a share's
  // holder never changes: the registry's updateShare changes weight and end only).
  const shares = new Map(own.map((r) => [r.share_id, r]));
  return {
    head: statement.head,
    lines: statement.lines
      .map((line) => {
        const r = shares.get(line.shareId)!;
        return {
          ...line,
          installation: { code: r.code, name: r.name, capacityW: r.capacity_w },
          share: { firstDay: r.first, lastDay: r.last },
          loans: loans.get(line.installationId) ?? [],
        };
      })
      .sort((a, b) =>
        a.installation.code < b.installation.code
          ? -1
          : a.installation.code > b.installation.code
            ? 1
            : a.shareId - b.shareId,
      ),
  };
}
