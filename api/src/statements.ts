// A beneficiary's statement for one month as people read it: what billing recorded (billing's
// `statementOf`) with what the registry knows of each line (the installation's code, name and
// rating, the share's days) and the loans its installment changed. The portal's statement page and
// /me/statements/{month} both show this one read. The three reads go to PostgreSQL at once (each
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

export interface StatementLineRead extends StatementLine {
  installation: { code: string; name: string; capacityW: number };
  /** The share's first and last day (Tehran dates; last null while it runs on). */
  share: { firstDay: string; lastDay: string | null };
  loans: LoanOnStatement[];
}

interface ShareRow {
  share_id: number;
  code: string;
  name: string;
  capacity_w: number;
  first: string;
  last: string | null;
}
const SHARES = `SELECT sh.id AS share_id, i.code, i.name, (i.ac_rating_kw * 1000)::int AS capacity_w,
       to_char(sh.valid_from, 'YYYY-MM-DD') AS first, to_char(sh.valid_until - 1, 'YYYY-MM-DD') AS last
  FROM shares sh JOIN installations i ON i.id = sh.installation_id`;

/** The statement with its lines by installation code, then share; null when the person has none that month. */
export async function beneficiaryStatement(
  sql: pg.Pool,
  beneficiaryId: number,
  month: MonthId,
): Promise<{ head: StatementHead; lines: StatementLineRead[] } | null> {
  const [statement, own, loans] = await Promise.all([
    statementOf(sql, beneficiaryId, month),
    // Every share the person holds (a few): the statement's are among them.
    sql.query<ShareRow>({
      name: 'statement-shares',
      text: `${SHARES} WHERE sh.beneficiary_id = $1`,
      values: [beneficiaryId],
    }),
    loansOnStatement(sql, beneficiaryId, month),
  ]);
  if (!statement) return null;
  // A line's share is the person's own (billing allocates a share to its holder, and a share's
  // holder never changes: the registry's updateShare changes weight and end only).
  const shares = new Map(own.rows.map((r) => [r.share_id, r]));
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
