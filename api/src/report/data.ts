// Everything the monthly program report shows, gathered once: the month's ledger figures (with the
// program's progress that month: the installations it billed, the people its statements paid) and
// the cash position from billing's own read functions, the alerts from their table. Nothing here
// computes money. The month's figures are the same whenever the report is made; the cash position
// and the open alerts are as of `generatedAt`, and the report says so.
import type pg from 'pg';
import { tehranDate } from '../../../lib/program/tehran-time';
import {
  type CashPosition,
  cashPosition,
  type MonthId,
  type MonthReportFigures,
  monthBounds,
  monthReportFigures,
} from '../../../billing';

export interface RiskRow {
  installation: string;
  province: string;
  rule: string;
  cause: string;
  lostKwhPerDay: number;
  lostRialsPerDay: bigint;
}
export interface ReportData {
  month: MonthId;
  generatedAt: Date;
  figures: MonthReportFigures;
  cash: CashPosition;
  alerts: { opened: number; resolved: number; open: number; risk: RiskRow[] };
}

export interface ReportDeps {
  sql: pg.Pool;
  lateAfterDays: number;
}

export async function gatherReport(deps: ReportDeps, month: MonthId, now = new Date()): Promise<ReportData> {
  const figures = await monthReportFigures(deps.sql, month);
  const cash = await cashPosition(deps.sql, tehranDate(now.getTime()), deps.lateAfterDays);
  const bounds = monthBounds(month);
  const [counts, risk] = await Promise.all([
    deps.sql.query<{ opened: number; resolved: number; open: number }>(
      `SELECT count(*) FILTER (WHERE opened_at >= $1 AND opened_at < $2)::int AS opened,
              count(*) FILTER (WHERE state IN ('CLEARED', 'RESOLVED') AND last_seen_at >= $1 AND last_seen_at < $2)::int AS resolved,
              count(*) FILTER (WHERE state IN ('OPEN', 'ACKNOWLEDGED'))::int AS open
         FROM alerts`,
      [new Date(bounds.startMs), new Date(bounds.endMs)],
    ),
    deps.sql.query(
      `SELECT i.code, p.code AS province, a.rule::text, a.cause, a.lost_kwh_per_day::float8 AS kwh, a.lost_rials_per_day::text AS rials
         FROM alerts a JOIN installations i ON i.id = a.installation_id JOIN provinces p ON p.id = a.province_id
        WHERE a.state IN ('OPEN', 'ACKNOWLEDGED') ORDER BY a.lost_rials_per_day DESC, i.code LIMIT 10`,
    ),
  ]);
  return {
    month,
    generatedAt: now,
    figures,
    cash,
    alerts: {
      ...counts.rows[0]!,
      risk: risk.rows.map((r) => ({
        installation: r.code,
        province: r.province,
        rule: r.rule,
        cause: r.cause,
        lostKwhPerDay: r.kwh,
        lostRialsPerDay: BigInt(r.rials),
      })),
    },
  };
}
