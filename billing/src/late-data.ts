// Late data for closed months (invariant 4): a closed month is never rewritten; what it would bill
// now, minus what it billed, becomes an adjustment line in the month being run — automatically only
// when it fills a gap the month was billed across (core/late-data-rule.ts), otherwise held for an
// operator's audited review of that month's counters.
import type pg from 'pg';
import type { InfluxClient } from '../../lib/influx/client';
import { influxString } from '../../lib/influx/client';
import { MEASUREMENT } from '../../lib/influx/layout';
import type { BillingConfig } from './config';
import type { Adjustment } from './core/bill-installation';
import { isImplausible } from './core/bill-month';
import { type BilledCounter, type BilledReading, lateChangeHold } from './core/late-data-rule';
import { monthBounds, monthDays, type MonthId } from '../../lib/program/solar-hijri';
import { priceEnergy } from './core/price-energy';
import { type CounterDeps, energyByInstallation, splitInstantsOf } from './installation-energy';
import { loadContracts, loadCounterEvidence, type ProgramSnapshot } from './program-snapshot';

/** A late change to a closed month waiting for an operator (`review FOR_MONTH SERIAL ...`): not money yet. */
export interface HeldLateChange {
  forMonth: MonthId;
  wh: number;
  rials: bigint;
  reason: string;
}

/**
 * Re-reads the counters of the last closed months: what they would bill now, minus what they billed
 * and what earlier months already adjusted (drafts included: an open earlier month closes first,
 * so one correction is never carried twice), is an adjustment line in this month (invariant 4) when
 * the late-data rule allows it or an operator reviewed the month's counters after it closed;
 * otherwise it is held, and this month cannot close until someone decides.
 */
export async function lateDataAdjustments(
  deps: CounterDeps & { config: Pick<BillingConfig, 'adjustmentMonths' | 'rules'> },
  db: pg.ClientBase,
  snapshot: ProgramSnapshot,
  month: MonthId,
): Promise<{ adjustments: Map<number, Adjustment[]>; held: Map<number, HeldLateChange[]> }> {
  const out = new Map<number, Adjustment[]>();
  const held = new Map<number, HeldLateChange[]>();
  if (deps.config.adjustmentMonths === 0) return { adjustments: out, held };
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
    const changed = [];
    for (const inst of snapshot.installations) {
      const { days, trace } = energy.get(inst.installationId)!;
      const now = {
        wh: days.reduce((s, d) => s + d.wh, 0),
        rials: priceEnergy(days, contracts.get(inst.installationId) ?? [], deps.config.rules.stepDowns).grossRials,
      };
      const was = before.get(inst.installationId) ?? { wh: 0, rials: 0n };
      if (now.wh === was.wh && now.rials === was.rials) continue;
      changed.push({ inst, wh: now.wh - was.wh, rials: now.rials - was.rials, implausibleNow: isImplausible(trace) });
    }
    if (changed.length === 0) continue;
    const billedCounters = await loadBilledCounters(db, forMonth);
    const reviewed = await reviewedAfterClose(db, forMonth);
    const stored = await storedAt(
      deps.influx,
      changed.flatMap(({ inst }) =>
        inst.inverters.flatMap((inv) =>
          (billedCounters.get(inv.serial)?.readings ?? []).map((r) => ({ serial: inv.serial, ...r })),
        ),
      ),
    );
    const { startMs, endMs } = monthBounds(forMonth);
    for (const { inst, wh, rials, implausibleNow } of changed) {
      const adjustment = { forMonth, wh, rials, reason: `counter data for ${forMonth} changed after it was closed` };
      if (inst.inverters.some((inv) => reviewed.has(inv.serial))) {
        out.set(inst.installationId, [
          ...(out.get(inst.installationId) ?? []),
          { ...adjustment, reason: `${adjustment.reason} (reviewed by an operator)` },
        ]);
        continue;
      }
      const changedReadings = inst.inverters.flatMap((inv) =>
        (billedCounters.get(inv.serial)?.readings ?? [])
          .filter((r) => stored.get(`${inv.serial}@${r.tMs}`) !== r.wh)
          .map(
            (r) =>
              `${inv.serial} at ${new Date(r.tMs).toISOString()} was ${r.wh} Wh, now ${stored.get(`${inv.serial}@${r.tMs}`) ?? 'missing'}`,
          ),
      );
      const why = lateChangeHold({
        deltaWh: wh,
        inverters: inst.inverters.map((inv) => ({
          serial: inv.serial,
          ratedAcW: inv.ratedAcW,
          billed: billedCounters.get(inv.serial),
        })),
        changedReadings,
        implausibleNow,
        startMs,
        endMs,
      });
      if (why === null) out.set(inst.installationId, [...(out.get(inst.installationId) ?? []), adjustment]);
      else
        held.set(inst.installationId, [
          ...(held.get(inst.installationId) ?? []),
          {
            ...adjustment,
            reason: `counter data for ${forMonth} changed after it was closed, held for review: ${why}`,
          },
        ]);
    }
  }
  return { adjustments: out, held };
}

/** What each inverter's bill for a closed month recorded: the readings it was billed from and its flags. */
async function loadBilledCounters(db: pg.ClientBase, month: MonthId): Promise<Map<string, BilledCounter>> {
  type Recorded = {
    epochs: { opening: { at: string; wh: number }; closing: { at: string; wh: number } }[];
    flags: Record<string, unknown>[];
  };
  const { rows } = await db.query<{ counters: Record<string, Recorded> | null }>(
    `SELECT detail->'counters' AS counters FROM installation_bills WHERE month = $1`,
    [month],
  );
  const ms = (v: unknown) => (typeof v === 'string' ? Date.parse(v) : undefined);
  const out = new Map<string, BilledCounter>();
  for (const { counters } of rows)
    for (const [serial, c] of Object.entries(counters ?? {})) {
      const readings = new Map<number, number>();
      for (const e of c.epochs) for (const r of [e.opening, e.closing]) readings.set(Date.parse(r.at), r.wh);
      out.set(serial, {
        readings: [...readings].map(([tMs, wh]) => ({ tMs, wh })),
        flags: c.flags.map((f) => ({
          kind: String(f.kind),
          firstReadingAt: ms(f.firstReadingAt),
          lastReadingAt: ms(f.lastReadingAt),
          at: ms(f.at),
        })),
      });
    }
  return out;
}

/** Serials whose counters an operator reviewed for `month` after it closed: their late changes are decided. */
async function reviewedAfterClose(db: pg.ClientBase, month: MonthId): Promise<Set<string>> {
  const { rows } = await db.query<{ serial: string }>(
    `SELECT r.serial FROM counter_reviews r JOIN billing_months m ON m.month = r.month
      WHERE r.month = $1 AND r.decided_at > m.computed_at`,
    [month],
  );
  return new Set(rows.map((r) => r.serial));
}

/** The counter stored now at each instant a closed month was billed from (whole Wh, as billing reads it). */
async function storedAt(
  influx: InfluxClient,
  readings: (BilledReading & { serial: string })[],
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const batch = 500;
  for (let i = 0; i < readings.length; i += batch) {
    const part = readings.slice(i, i + batch);
    const results = await influx.query(
      part
        .map(
          (r) =>
            `SELECT max("energy_wh_total") FROM "${MEASUREMENT.telemetry}" WHERE "serial" = ${influxString(r.serial)} AND time = ${r.tMs}ms`,
        )
        .join('; '),
      { method: 'POST' },
    );
    part.forEach((r, k) => {
      const value = results[k]?.[0]?.values[0]?.[1];
      if (value !== undefined && value !== null) out.set(`${r.serial}@${r.tMs}`, Math.round(Number(value)));
    });
  }
  return out;
}
