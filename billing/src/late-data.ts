// Late data for closed months (invariant 4): a closed month is never rewritten; what it would bill
// now, minus what it billed, becomes an adjustment line in the month being run.
import type pg from 'pg';
import type { BillingConfig } from './config';
import type { Adjustment } from './core/bill-installation';
import { monthDays, type MonthId } from './core/solar-hijri';
import { priceEnergy } from './core/tariff';
import { type CounterDeps, energyByInstallation, splitInstantsOf } from './installation-energy';
import { loadContracts, loadCounterEvidence, type ProgramSnapshot } from './program-snapshot';

/**
 * Re-reads the counters of the last closed months: what they would bill now, minus what they billed
 * and what earlier months already adjusted (drafts included: an open earlier month closes first,
 * so one correction is never carried twice), is an adjustment line in this month (invariant 4).
 */
export async function lateDataAdjustments(
  deps: CounterDeps & { config: Pick<BillingConfig, 'adjustmentMonths' | 'rules'> },
  db: pg.ClientBase,
  snapshot: ProgramSnapshot,
  month: MonthId,
): Promise<Map<number, Adjustment[]>> {
  const out = new Map<number, Adjustment[]>();
  if (deps.config.adjustmentMonths === 0) return out;
  const closed = await db.query<{ month: string }>(
    `SELECT month FROM billing_months WHERE status <> 'DRAFT' AND month < $1 ORDER BY month DESC LIMIT $2`,
    [month, deps.config.adjustmentMonths],
  );
  for (const { month: forMonth } of closed.rows.reverse()) {
    const billed = await db.query<{ installation_id: number; wh: string; rials: string }>(
      `SELECT installation_id, sum(wh) AS wh, sum(rials) AS rials FROM (
         SELECT installation_id, energy_wh AS wh, gross_rials AS rials FROM installation_bills WHERE month = $1
         UNION ALL
         SELECT installation_id, energy_wh, rials FROM energy_adjustments WHERE for_month = $1 AND month < $2) x GROUP BY installation_id`,
      [forMonth, month],
    );
    const before = new Map(billed.rows.map((r) => [r.installation_id, { wh: Number(r.wh), rials: BigInt(r.rials) }]));
    // Priced as that month was: with the contracts in force then; counted with its evidence.
    const forDays = monthDays(forMonth);
    const contracts = await loadContracts(db, forDays[0]!.date, forDays[forDays.length - 1]!.date);
    const energy = await energyByInstallation(deps, snapshot.installations, forDays, {
      ...(await loadCounterEvidence(db, forMonth)),
      splitInstants: splitInstantsOf(forDays, contracts, deps.config.rules.stepDowns),
    });
    for (const inst of snapshot.installations) {
      const days = energy.get(inst.installationId)!.days;
      const now = {
        wh: days.reduce((s, d) => s + d.wh, 0),
        rials: priceEnergy(days, contracts.get(inst.installationId) ?? [], deps.config.rules.stepDowns).grossRials,
      };
      const was = before.get(inst.installationId) ?? { wh: 0, rials: 0n };
      if (now.wh === was.wh && now.rials === was.rials) continue;
      const list = out.get(inst.installationId) ?? [];
      list.push({
        forMonth,
        wh: now.wh - was.wh,
        rials: now.rials - was.rials,
        reason: `counter data for ${forMonth} changed after it was closed`,
      });
      out.set(inst.installationId, list);
    }
  }
  return out;
}
