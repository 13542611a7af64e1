// A beneficiary's statement for one month as people read it: what billing recorded (billing's
// `statementOf`) with what the registry knows of each line (the installation's code, name and
// rating, the share's days) and the loans its installment changed. The portal's statement page and
// /me/statements/{month} both show this one read.
import type pg from 'pg';
import {
  type LoanOnStatement,
  loansOnStatement,
  type MonthId,
  type StatementHead,
  type StatementLine,
  statementOf,
} from '../../billing';

export interface StatementLineRead extends StatementLine {
  installation: { code: string; name: string; capacityW: number };
  /** The share's first and last day (Tehran dates; last null while it runs on). */
  share: { firstDay: string; lastDay: string | null };
  loans: LoanOnStatement[];
}

/** The statement with its lines by installation code, then share; null when the person has none that month. */
export async function beneficiaryStatement(
  sql: pg.Pool,
  beneficiaryId: number,
  month: MonthId,
): Promise<{ head: StatementHead; lines: StatementLineRead[] } | null> {
  const statement = await statementOf(sql, beneficiaryId, month);
  if (!statement) return null;
  const [registry, loans] = await Promise.all([
    sql.query<{ share_id: number; code: string; name: string; capacity_w: number; first: string; last: string | null }>(
      {
        name: 'statement-registry',
        text: `SELECT sh.id AS share_id, i.code, i.name, (i.ac_rating_kw * 1000)::int AS capacity_w,
                    to_char(sh.valid_from, 'YYYY-MM-DD') AS first, to_char(sh.valid_until - 1, 'YYYY-MM-DD') AS last
               FROM shares sh JOIN installations i ON i.id = sh.installation_id
              WHERE sh.id = ANY($1::int[]) ORDER BY i.code, sh.id`,
        values: [statement.lines.map((l) => l.shareId)],
      },
    ),
    loansOnStatement(
      sql,
      month,
      statement.lines.map((l) => l.installationId),
    ),
  ]);
  const byShare = new Map(statement.lines.map((line) => [line.shareId, line]));
  return {
    head: statement.head,
    lines: registry.rows.map((r) => {
      const line = byShare.get(r.share_id)!;
      return {
        ...line,
        installation: { code: r.code, name: r.name, capacityW: r.capacity_w },
        share: { firstDay: r.first, lastDay: r.last },
        loans: loans.get(line.installationId) ?? [],
      };
    }),
  };
}
