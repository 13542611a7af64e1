// Reconciles imported settlements with what billing billed: for each settlement period, month by
// month, a closed month's figures from the ledger (split exactly where a period cuts it) and a month
// not closed yet read and priced now with billing's own code (price changes, replacements, review
// decisions); each settlement gets its telemetry kWh, billed Rials, status and what each month
// contributed. Settlements not yet reconciled, whose telemetry was missing, or priced from a month
// that has closed since, are (re)done on every run; `all` redoes every one (e.g. after a tariff correction).
import type pg from 'pg';
import type { Logger } from 'pino';
import type { InfluxClient } from '../../../lib/influx/client';
import { installationsWithInverters } from '../../../registry/index';
import { isIncomplete } from '../core/bill-month';
import { partsWithin, splitBilledMonth } from '../core/period-billed';
import { type ReconciliationStatus, reconcileSettlement, type SettlementPolicy } from '../core/reconcile-settlement';
import { daysBetween, type MonthId, monthDays, monthOf } from '../../../lib/program/solar-hijri';
import { priceEnergy } from '../core/price-energy';
import type { StepDown } from '../../../lib/program/tariff';
import { energyByInstallation, splitInstantsOf } from '../installation-energy';
import { loadContracts, loadCounterEvidence } from '../program-snapshot';
import { closedMonthsBilled, NOTHING_BILLED } from './billed-months';

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
  const { rows: due } = await deps.pool.query<Omit<Pending, 'code' | 'province' | 'serials' | 'ratings'>>(
    `SELECT s.id, s.installation_id,
            to_char(s.period_from, 'YYYY-MM-DD') AS period_from, to_char(s.period_until, 'YYYY-MM-DD') AS period_until,
            s.metered_wh, s.amount_rials, s.reference
       -- The figures in force (billing/README.md, "Corrections").
       FROM settlements_in_force s
      WHERE $1 OR s.status IS NULL OR s.status = 'TELEMETRY_MISSING'
         -- Priced in part from a month not closed then, which has closed since: now as billed.
         OR EXISTS (SELECT 1 FROM jsonb_array_elements(s.detail -> 'months') part
                      JOIN billing_months b ON b.month = part ->> 'month' AND b.status <> 'DRAFT'
                     WHERE NOT (part ->> 'recorded')::boolean)
      ORDER BY s.id`,
    [options.all ?? false],
  );
  // Their installations' codes and inverters, from the registry.
  const registered = await installationsWithInverters(deps.pool, [...new Set(due.map((s) => s.installation_id))]);
  const installations = new Map(registered.map((i) => [i.id, i]));
  const rows: Pending[] = due.map((s) => {
    const { code, province, serials, ratings } = installations.get(s.installation_id)!;
    return { ...s, code, province, serials, ratings };
  });
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
  // The period by billing month, each as billing billed it (billing/README.md, "Reconciliation"): a
  // closed month from the ledger, split at the installation's settlement dates when a period cuts
  // it; a month not closed read and priced now with billing's code, its part rounded once.
  const parts = new Map<MonthId, typeof days>();
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
    const months = [...parts.keys()];
    const firstDay = monthDays(months[0]!)[0]!.date;
    const lastMonthDays = monthDays(months[months.length - 1]!);
    const contracts = await loadContracts(db, firstDay, lastMonthDays[lastMonthDays.length - 1]!.date);
    const ids = settlements.map((s) => s.installation_id);
    const { closed, billed } = await closedMonthsBilled(db, months, ids);
    // Read only when a closed month is split (the settlement dates cut it).
    let cuts: Map<number, Set<string>> | undefined;
    const totals = new Map(
      settlements.map((s) => [
        s.id,
        { wh: 0, rials: 0n, unpricedWh: 0, complete: s.serials.length > 0, months: [] as PeriodMonthPart[] },
      ]),
    );
    const span = (partDays: typeof days) => ({
      fromDate: partDays[0]!.date,
      toDate: partDays[partDays.length - 1]!.date,
    });
    for (const [month, partDays] of parts) {
      if (!closed.has(month)) continue;
      const whole = monthDays(month);
      const recordOf = (s: Pending) => billed.get(`${month}/${s.installation_id}`) ?? NOTHING_BILLED;
      // A closed month the period covers whole, billed complete: the ledger's figures as they are.
      const fromLedger = (s: Pending) => partDays.length === whole.length && !recordOf(s).incomplete;
      for (const s of settlements.filter(fromLedger)) {
        const { unpricedWh, ...record } = recordOf(s);
        const total = totals.get(s.id)!;
        total.unpricedWh += unpricedWh;
        addPart(total, { month, ...span(partDays), wh: record.wh, rials: record.rials }, true);
      }
      const toRead = installations.filter((_i, k) => !fromLedger(settlements[k]!));
      if (toRead.length === 0) continue;
      // Split, or billed without all its readings: the whole month read (the split's weights and
      // whether it is complete now need every day), the ledger's figures split.
      const energy = await energyByInstallation(counterDeps, toRead, whole, {
        splitInstants: splitInstantsOf(whole, contracts, deps.stepDowns),
        ...(await loadCounterEvidence(db, month)),
      });
      for (const s of settlements.filter((x) => !fromLedger(x))) {
        const e = energy.get(s.installation_id)!;
        const terms = contracts.get(s.installation_id) ?? [];
        const total = totals.get(s.id)!;
        const record = recordOf(s);
        const inPeriod = e.days.filter((d) => d.date >= from && d.date < until);
        total.unpricedWh += priceEnergy(inPeriod, terms, deps.stepDowns).unpricedWh;
        cuts ??= await settlementDates(db, ids);
        const monthCuts = [...(cuts.get(s.installation_id) ?? [])];
        for (const part of partsWithin(
          splitBilledMonth({ days: e.days, billed: record }, monthCuts, terms, deps.stepDowns),
          from,
          until,
        ))
          addPart(total, { month, ...part }, true);
        // A month billed without all its readings is final only once what arrived since was billed.
        const readWh = e.days.reduce((a, d) => a + d.wh, 0);
        if (record.incomplete && (isIncomplete(e.trace) || readWh !== record.wh)) total.complete = false;
      }
    }
    // Months not closed (closed months come first: they close in order) are read now, together in
    // one pass cut at each month's start, unless an operator's decision for one of them applies
    // (decisions are per month): each month's part priced and rounded once, as billing rounds a month.
    const open = [...parts].filter(([month]) => !closed.has(month));
    if (open.length > 0) {
      const evidence = new Map<MonthId, Awaited<ReturnType<typeof loadCounterEvidence>>>();
      for (const [month] of open) evidence.set(month, await loadCounterEvidence(db, month));
      const serials = new Set(installations.flatMap((i) => i.inverters.map((v) => v.serial)));
      const decided = [...evidence.values()].some((e) => [...e.reviews.keys()].some((serial) => serials.has(serial)));
      const passes = decided ? open.map((part) => [part]) : [open];
      for (const pass of passes) {
        const passDays = pass.flatMap(([, partDays]) => partDays);
        const energy = await energyByInstallation(counterDeps, installations, passDays, {
          splitInstants: [
            ...splitInstantsOf(passDays, contracts, deps.stepDowns),
            ...pass.slice(1).map(([, partDays]) => partDays[0]!.startMs),
          ],
          ...evidence.get(pass[0]![0])!,
        });
        for (const s of settlements) {
          const e = energy.get(s.installation_id)!;
          const total = totals.get(s.id)!;
          if (isIncomplete(e.trace)) total.complete = false;
          for (const [month, partDays] of pass) {
            const monthEnergy = e.days.filter((d) => d.date >= partDays[0]!.date && d.date <= span(partDays).toDate);
            const priced = priceEnergy(monthEnergy, contracts.get(s.installation_id) ?? [], deps.stepDowns);
            total.unpricedWh += priced.unpricedWh;
            const wh = monthEnergy.reduce((a, d) => a + d.wh, 0);
            addPart(total, { month, ...span(partDays), wh, rials: priced.grossRials }, false);
          }
        }
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
      return { settlement: s, total, result };
    });
    await db.query(
      `UPDATE utility_settlements s SET telemetry_wh = u.wh, billed_rials = u.rials, status = u.status::reconciliation_status,
              reconciled_at = now(), detail = u.detail::jsonb
         FROM unnest($1::int[], $2::bigint[], $3::bigint[], $4::text[], $5::text[]) AS u(id, wh, rials, status, detail)
        WHERE s.id = u.id`,
      [
        results.map((r) => r.settlement.id),
        results.map((r) => String(r.total.wh)),
        results.map((r) => String(r.total.rials)),
        results.map((r) => r.result.status),
        results.map((r) =>
          JSON.stringify({
            energyDifferencePercent: r.result.energyDifferencePercent,
            amountDifferenceRials: String(r.result.amountDifferenceRials),
            targetAdjustmentRials: String(r.result.targetAdjustmentRials),
            unpricedWh: r.total.unpricedWh,
            // What each billing month contributed (the cash position's "billed not yet settled" subtracts
            // these); a part not `recorded` was priced from a month not closed: redone once it closes.
            months: r.total.months.map((m) => ({ ...m, rials: String(m.rials) })),
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
          missingKwhPerDay: Math.round((r.total.wh - Number(r.settlement.metered_wh)) / days.length) / 1000,
        });
      else summary.meterAgrees.push(ids);
    }
  } finally {
    db.release();
  }
}

/** A billing month's contribution to a settlement period: from the ledger (`recorded`) or priced now. */
interface PeriodMonthPart {
  month: MonthId;
  fromDate: string;
  toDate: string;
  wh: number;
  rials: bigint;
  recorded: boolean;
}

function addPart(
  total: { wh: number; rials: bigint; months: PeriodMonthPart[] },
  part: Omit<PeriodMonthPart, 'recorded'>,
  recorded: boolean,
): void {
  total.wh += part.wh;
  total.rials += part.rials;
  total.months.push({
    month: part.month,
    fromDate: part.fromDate,
    toDate: part.toDate,
    wh: part.wh,
    rials: part.rials,
    recorded,
  });
}

/** Every date on which one of these installations' settlement periods starts or ends: where their months are split. */
async function settlementDates(
  db: pg.ClientBase,
  installationIds: readonly number[],
): Promise<Map<number, Set<string>>> {
  const { rows } = await db.query<{ installation_id: number; dates: string[] }>(
    `SELECT installation_id, array_agg(DISTINCT d) AS dates
       FROM utility_settlements s CROSS JOIN LATERAL (VALUES (to_char(period_from, 'YYYY-MM-DD')), (to_char(period_until, 'YYYY-MM-DD'))) AS v(d)
      WHERE installation_id = ANY($1) GROUP BY installation_id`,
    [installationIds],
  );
  return new Map(rows.map((r) => [r.installation_id, new Set(r.dates)]));
}
