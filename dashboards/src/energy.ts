// InfluxQL and SQL fragments for energy, shared by the Fleet and Installation dashboards. Energy is
// always the increase of the lifetime counter energy_wh_total (never summed power): per inverter,
// the non-negative difference between the last counter of consecutive Tehran-aligned rollup
// buckets (hourly, or daily from `daily`), then summed. A counter that goes backwards (a reset)
// contributes nothing for that bucket instead of a negative or a lifetime total; billing's rules
// (billing/README.md) are the exact account, these panels are the operator's live view.
import { formatMonth, monthBounds } from '../../lib/program/solar-hijri';
import { TEHRAN_BUCKETS } from '../../lib/influx/layout';
import { TEHRAN_TIME_ZONE } from '../../lib/program/tehran-time';
import { queryVariable } from './grafana';

/** Energy in Wh per bucket per inverter, from a rollup; `where` narrows by tags (and time). */
export function counterIncrease(rollup: 'hourly' | 'daily', where: string, groupBy = '"serial"'): string {
  const bucket = TEHRAN_BUCKETS[rollup];
  return `SELECT non_negative_difference(last("energy_wh_total")) AS "wh" FROM "${rollup}"."telemetry" WHERE ${where} GROUP BY ${bucket}, ${groupBy}`;
}

/**
 * Hidden variables that anchor "today" and "this month" in Tehran: the start of the current day
 * (PostgreSQL knows the zone) and of the current Solar Hijri month, in epoch ms. PostgreSQL has no
 * Persian calendar, so the month starts are listed from billing's calendar when the JSON is
 * generated (1404 to 1420; regenerate the dashboards before 1421).
 */
export function timeAnchorVariables() {
  const starts: number[] = [];
  for (let year = 1404; year <= 1420; year++)
    for (let month = 1; month <= 12; month++) starts.push(monthBounds(formatMonth(year, month)).startMs);
  return [
    queryVariable(
      'day_start',
      'Start of today (Tehran)',
      'postgres',
      `SELECT (extract(epoch FROM date_trunc('day', now() AT TIME ZONE '${TEHRAN_TIME_ZONE}') AT TIME ZONE '` +
        `${TEHRAN_TIME_ZONE}') * 1000)::bigint AS "day_start"`,
      { hide: true, description: `Start of the current day in ${TEHRAN_TIME_ZONE}, epoch milliseconds.` },
    ),
    queryVariable(
      'month_start',
      'Start of this Solar Hijri month',
      'postgres',
      `SELECT max(s) AS "month_start" FROM (VALUES (${starts.join('), (')})) AS month_starts(s) WHERE s <= extract(epoch FROM now()) * 1000`,
      { hide: true, description: `Start of the current Solar Hijri month in ${TEHRAN_TIME_ZONE}, epoch milliseconds.` },
    ),
  ];
}
