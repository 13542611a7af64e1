// The alerts of a period for the program's monthly report: how many opened in it and were resolved in
// it, how many are open now, and the open ones that cost the most. Installations and provinces are
// given by id: their codes are the registry's, which the caller reads.
import type pg from 'pg';
import { ACTIVE_STATES, type AlertRule } from './core/types';

export interface CostlyAlert {
  installationId: number;
  provinceId: number;
  rule: AlertRule;
  cause: string;
  lostKwhPerDay: number;
  lostRialsPerDay: bigint;
}
export interface AlertsOfPeriod {
  opened: number;
  resolved: number;
  open: number;
  /** The `costliest` open alerts of an installation by Rials lost per day, and every alert tied with the last of them. */
  costliest: CostlyAlert[];
}

export async function alertsOfPeriod(
  db: Pick<pg.Pool, 'query'>,
  period: { startMs: number; endMs: number },
  costliest: number,
): Promise<AlertsOfPeriod> {
  const active = [...ACTIVE_STATES];
  const [counts, costly] = await Promise.all([
    db.query<{ opened: number; resolved: number; open: number }>(
      `SELECT count(*) FILTER (WHERE opened_at >= $1 AND opened_at < $2)::int AS opened,
              count(*) FILTER (WHERE state IN ('CLEARED', 'RESOLVED') AND last_seen_at >= $1 AND last_seen_at < $2)::int
                AS resolved,
              count(*) FILTER (WHERE state::text = ANY($3))::int AS open
         FROM alerts`,
      [new Date(period.startMs), new Date(period.endMs), active],
    ),
    // Ties with the last place are kept so that the caller can break them by installation code.
    db.query(
      `WITH open AS (SELECT * FROM alerts WHERE state::text = ANY($1) AND installation_id IS NOT NULL)
       SELECT installation_id, province_id, rule::text, cause, lost_kwh_per_day::float8 AS kwh,
              lost_rials_per_day::text AS rials
         FROM open
        WHERE lost_rials_per_day >= (SELECT min(r) FROM (SELECT lost_rials_per_day AS r FROM open
                                                         ORDER BY lost_rials_per_day DESC LIMIT $2) top)`,
      [active, costliest],
    ),
  ]);
  return {
    ...counts.rows[0]!,
    costliest: costly.rows.map((r) => ({
      installationId: r.installation_id,
      provinceId: r.province_id,
      rule: r.rule,
      cause: r.cause,
      lostKwhPerDay: r.kwh,
      lostRialsPerDay: BigInt(r.rials),
    })),
  };
}
