// Reconciles imported settlements with telemetry: for each settlement period, the installations'
// counters are read and priced with billing's own code, month by month as billing bills them (price
// changes, replacements, review decisions); each settlement gets its telemetry kWh, billed Rials and
// status. Settlements not yet reconciled, or whose telemetry was missing, are (re)done on every run;
// `all` redoes every one (e.g. after a tariff correction).
import type pg from 'pg';
import type { Logger } from 'pino';
import type { InfluxClient } from '../../../lib/influx/client';
import { isIncomplete } from '../core/bill-month';
import { type ReconciliationStatus, reconcileSettlement, type SettlementPolicy } from '../core/reconcile-settlement';
import { daysBetween, type MonthId, monthOf } from '../core/solar-hijri';
import { priceEnergy, type StepDown } from '../core/tariff';
import { energyByInstallation, splitInstantsOf } from '../installation-energy';
import { loadContracts, loadCounterEvidence } from '../program-snapshot';

export interface SettlementDeps {
  pool: pg.Pool;
  influx: InfluxClient;
  policy: SettlementPolicy;
  stepDowns: readonly StepDown[];
  lookaroundDays: number;
  log: Logger;
}

export interface MeterProblem {
  settlementId: number;
  installationId: number;
  installationCode: string;
  reference: string;
  periodFrom: string;
  periodUntil: string;
  energyDifferencePercent: number | null;
  /** Exported energy the meter did not count, per day of the period. */
  missingKwhPerDay: number;
}

export interface ReconcileSummary {
  reconciled: number;
  periods: number;
  byStatus: Partial<Record<ReconciliationStatus, number>>;
  /** Settlements whose export meter reads below telemetry beyond tolerance: a meter or line to check. */
  meterProblems: MeterProblem[];
  /** Settlements reconciled this time whose meter is not below telemetry (any alert about them can close). */
  meterAgrees: { settlementId: number; installationId: number }[];
  seconds: number;
}

interface Pending {
  id: number;
  installation_id: number;
  code: string;
  province: string;
  serials: string[];
  ratings: number[];
  period_from: string;
  period_until: string;
  metered_wh: string;
  amount_rials: string;
  reference: string;
}

export async function reconcileSettlements(
  deps: SettlementDeps,
  options: { all?: boolean } = {},
): Promise<ReconcileSummary> {
  const started = performance.now();
  const { rows } = await deps.pool.query<Pending>(
    `SELECT s.id, s.installation_id, i.code, p.code AS province,
            COALESCE(array_agg(v.serial ORDER BY v.serial) FILTER (WHERE v.serial IS NOT NULL), '{}') AS serials,
            COALESCE(array_agg(v.rated_ac_w ORDER BY v.serial) FILTER (WHERE v.serial IS NOT NULL), '{}') AS ratings,
            to_char(s.period_from, 'YYYY-MM-DD') AS period_from, to_char(s.period_until, 'YYYY-MM-DD') AS period_until,
            COALESCE(c.metered_wh, s.metered_wh) AS metered_wh, COALESCE(c.amount_rials, s.amount_rials) AS amount_rials,
            COALESCE(c.reference, s.reference) AS reference
       FROM utility_settlements s JOIN installations i ON i.id = s.installation_id
       JOIN provinces p ON p.id = i.province_id LEFT JOIN inverters v ON v.installation_id = i.id
       -- A paid settlement never changes: its last correction holds the figures in force.
       LEFT JOIN LATERAL (SELECT metered_wh, amount_rials, reference FROM settlement_corrections
                           WHERE settlement_id = s.id ORDER BY id DESC LIMIT 1) c ON true
      WHERE $1 OR s.status IS NULL OR s.status = 'TELEMETRY_MISSING'
      GROUP BY s.id, i.code, p.code, c.metered_wh, c.amount_rials, c.reference ORDER BY s.id`,
    [options.all ?? false],
  );
  const periods = new Map<string, Pending[]>();
  for (const row of rows) {
    const key = `${row.period_from}/${row.period_until}`;
    const list = periods.get(key);
    if (list) list.push(row);
    else periods.set(key, [row]);
  }
  const summary: ReconcileSummary = {
    reconciled: 0,
    periods: periods.size,
    byStatus: {},
    meterProblems: [],
    meterAgrees: [],
    seconds: 0,
  };
  for (const [key, settlements] of periods) {
    const [from, until] = key.split('/') as [string, string];
    await reconcilePeriod(deps, from, until, settlements, summary);
    deps.log.info({ period: key, settlements: settlements.length }, 'settlements: period reconciled');
  }
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}

async function reconcilePeriod(
  deps: SettlementDeps,
  from: string,
  until: string,
  settlements: Pending[],
  summary: ReconcileSummary,
): Promise<void> {
  const days = daysBetween(from, until);
  // The period by billing month: each part is read and priced exactly as billing bills that month
  // (its price-change instants, the recorded replacements, that month's review decisions) and
  // rounded once, as billing rounds each month's gross (billing/README.md, "Reconciliation").
  const parts = new Map<string, typeof days>();
  for (const d of days) {
    const month = monthOf(d.startMs);
    parts.set(month, [...(parts.get(month) ?? []), d]);
  }
  const installations = settlements.map((s) => ({
    installationId: s.installation_id,
    inverters: s.serials.map((serial, i) => ({ serial, ratedAcW: s.ratings[i]!, provinceCode: s.province })),
  }));
  const counterDeps = { influx: deps.influx, config: { lookaroundDays: deps.lookaroundDays }, log: deps.log };
  const db = await deps.pool.connect();
  try {
    const contracts = await loadContracts(db, days[0]!.date, days[days.length - 1]!.date);
    const totals = new Map(
      settlements.map((s) => [s.id, { wh: 0, rials: 0n, unpricedWh: 0, complete: s.serials.length > 0 }]),
    );
    for (const [month, partDays] of parts) {
      const evidence = await loadCounterEvidence(db, month as MonthId);
      const energy = await energyByInstallation(counterDeps, installations, partDays, {
        splitInstants: splitInstantsOf(partDays, contracts, deps.stepDowns),
        ...evidence,
      });
      for (const s of settlements) {
        const e = energy.get(s.installation_id)!;
        const priced = priceEnergy(e.days, contracts.get(s.installation_id) ?? [], deps.stepDowns);
        const total = totals.get(s.id)!;
        total.wh += e.days.reduce((a, d) => a + d.wh, 0);
        total.rials += priced.grossRials;
        total.unpricedWh += priced.unpricedWh;
        if (isIncomplete(e.trace)) total.complete = false;
      }
    }
    const results = settlements.map((s) => {
      const total = totals.get(s.id)!;
      const result = reconcileSettlement(
        {
          telemetryWh: BigInt(total.wh),
          telemetryComplete: total.complete,
          meteredWh: BigInt(s.metered_wh),
          billedRials: total.rials,
          settledRials: BigInt(s.amount_rials),
        },
        deps.policy,
      );
      return { settlement: s, telemetryWh: total.wh, billedRials: total.rials, unpricedWh: total.unpricedWh, result };
    });
    await db.query(
      `UPDATE utility_settlements s SET telemetry_wh = u.wh, billed_rials = u.rials, status = u.status::reconciliation_status,
              reconciled_at = now(), detail = u.detail::jsonb
         FROM unnest($1::int[], $2::bigint[], $3::bigint[], $4::text[], $5::text[]) AS u(id, wh, rials, status, detail)
        WHERE s.id = u.id`,
      [
        results.map((r) => r.settlement.id),
        results.map((r) => String(r.telemetryWh)),
        results.map((r) => String(r.billedRials)),
        results.map((r) => r.result.status),
        results.map((r) =>
          JSON.stringify({
            energyDifferencePercent: r.result.energyDifferencePercent,
            amountDifferenceRials: String(r.result.amountDifferenceRials),
            targetAdjustmentRials: String(r.result.targetAdjustmentRials),
            unpricedWh: r.unpricedWh,
          }),
        ),
      ],
    );
    for (const r of results) {
      summary.reconciled++;
      summary.byStatus[r.result.status] = (summary.byStatus[r.result.status] ?? 0) + 1;
      const ids = { settlementId: r.settlement.id, installationId: r.settlement.installation_id };
      if (r.result.status === 'METER_BELOW_TELEMETRY')
        summary.meterProblems.push({
          ...ids,
          installationCode: r.settlement.code,
          reference: r.settlement.reference,
          periodFrom: from,
          periodUntil: until,
          energyDifferencePercent: r.result.energyDifferencePercent,
          missingKwhPerDay: Math.round((r.telemetryWh - Number(r.settlement.metered_wh)) / days.length) / 1000,
        });
      else summary.meterAgrees.push(ids);
    }
  } finally {
    db.release();
  }
}
