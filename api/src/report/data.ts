// Everything the monthly program report shows, gathered once: the month's ledger figures (with the
// program's progress that month: the installations it billed, the people its statements paid) and
// the cash position from billing's own read functions, the alerts' from the alerts. Nothing here
// computes money. The month's figures are the same whenever the report is made; the cash position
// and the open alerts are as of `generatedAt`, and the report says so.
import type pg from 'pg';
import { alertsOfPeriod } from '../../../alerts';
import { installationCodes, provinceCodes } from '../../../registry';
import { tehranDate } from '../../../lib/program/tehran-time';
import { type CashPosition, cashPosition, type MonthReportFigures, monthReportFigures } from '../../../billing';
import { type MonthId, monthBounds } from '../../../lib/program/solar-hijri';

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

/** The open alerts the report lists, the costliest first. */
const COSTLIEST_ALERTS = 10;

export interface ReportDeps {
  sql: pg.Pool;
  lateAfterDays: number;
}

export async function gatherReport(deps: ReportDeps, month: MonthId, now = new Date()): Promise<ReportData> {
  const figures = await monthReportFigures(deps.sql, month);
  const cash = await cashPosition(deps.sql, tehranDate(now.getTime()), deps.lateAfterDays);
  const summary = await alertsOfPeriod(deps.sql, monthBounds(month), COSTLIEST_ALERTS);
  // The registry's codes for the alerts' installations and provinces; equal Rials by installation code.
  const [installations, provinces] = await Promise.all([
    installationCodes(
      deps.sql,
      summary.costliest.map((a) => a.installationId),
    ),
    provinceCodes(
      deps.sql,
      summary.costliest.map((a) => a.provinceId),
    ),
  ]);
  const byCost = (x: bigint, y: bigint) => (x > y ? -1 : x < y ? 1 : 0);
  const risk = summary.costliest
    .map((alert) => ({
      alert,
      code: installations.get(alert.installationId)!.code,
      province: provinces.get(alert.provinceId)!,
    }))
    .sort((x, y) => byCost(x.alert.lostRialsPerDay, y.alert.lostRialsPerDay) || (x.code < y.code ? -1 : 1))
    .slice(0, COSTLIEST_ALERTS);
  return {
    month,
    generatedAt: now,
    figures,
    cash,
    alerts: {
      opened: summary.opened,
      resolved: summary.resolved,
      open: summary.open,
      risk: risk.map(({ alert, code, province }) => ({
        installation: code,
        province,
        rule: alert.rule,
        cause: alert.cause,
        lostKwhPerDay: alert.lostKwhPerDay,
        lostRialsPerDay: alert.lostRialsPerDay,
      })),
    },
  };
}
