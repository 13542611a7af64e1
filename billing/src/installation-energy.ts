// Energy from the counters (InfluxDB, `counter-readings.ts`) through the pure counter model, over
// any period cut into slots: the days of a month being billed, a closed month re-read for late
// data, a month to date, or a settlement period. Then per installation, with operators' decisions
// on implausible counters applied and the epochs and flags behind every figure kept.
import type { Logger } from 'pino';
import type { BillingConfig } from './config';
import type { InfluxClient } from '../../lib/influx/client';
import type { EnergyTrace } from './core/bill-month';
import {
  capacityBoundWh,
  type CounterEnergy,
  countedBelowPower,
  type CounterReading,
  energyInSlots,
  IMPLAUSIBLE_FLAGS,
  NEEDS_ALL_READINGS,
  type Replacement,
  type Slot,
} from './core/counter-energy';
import { type CounterReview, reviewedSlotWh } from './core/counter-review';
import type { ContractTerms, StepDown } from '../../lib/program/tariff';
import { rateChangeDates } from './core/price-energy';
import { readAllAround, readCounterReadings } from './counter-readings';

/**
 * A counter read in full is read from this long before the period: the model judges the period's
 * first readings against the trend before them (a window starting inside an excursion would take
 * the excursion for the trend).
 */
const CONTEXT_MS = 3 * 86_400_000;

/** What reading counters needs: InfluxDB and how far outside a period to look. */
export interface CounterDeps {
  influx: InfluxClient;
  config: Pick<BillingConfig, 'lookaroundDays'>;
  log: Logger;
}

/** An inverter as the counters see it: its serial, rating and the InfluxDB partition (province tag). */
export interface MeteredInverter {
  serial: string;
  ratedAcW: number;
  provinceCode: string;
}

/**
 * Each inverter's energy over consecutive slots ([slots[0].start, slots[last].end)), by the counter
 * model: the entry point for any period. `splitInstants` are where energy must be split exactly.
 */
export async function readCounterEnergy(
  deps: CounterDeps,
  inverters: readonly MeteredInverter[],
  slots: readonly Slot[],
  options: { splitInstants?: readonly number[]; replacements?: ReadonlyMap<string, Replacement[]> } = {},
): Promise<Map<string, CounterEnergy>> {
  const out = new Map<string, CounterEnergy>();
  if (slots.length === 0 || inverters.length === 0) return out;
  const fromMs = slots[0]!.startMs;
  const toMs = slots[slots.length - 1]!.endMs;
  const replacements = options.replacements ?? new Map<string, Replacement[]>();
  const partitions = new Map<string, string[]>();
  for (const inv of inverters) {
    const list = partitions.get(inv.provinceCode);
    if (list) list.push(inv.serial);
    else partitions.set(inv.provinceCode, [inv.serial]);
  }
  const lookaroundMs = deps.config.lookaroundDays * 86_400_000;
  const replacedAt = [...replacements.values()].flat().map((r) => r.atMs);
  const edges = await readCounterReadings(deps.influx, fromMs, toMs, {
    splitInstants: [...(options.splitInstants ?? []), ...replacedAt],
    partitions: new Map([...partitions].sort((a, b) => (a[0] < b[0] ? -1 : 1))),
    lookaroundMs,
    // Any step back seen makes the model's level differ from the reading at a cut: read it in full.
    noiseWh: 0,
  });
  const energyOf = (inv: MeteredInverter, readings: CounterReading[]) =>
    energyInSlots(readings, slots, { ratedAcW: inv.ratedAcW, replacements: replacements.get(inv.serial) ?? [] });
  const deeper = new Map<string, { fromMs: number; toMs: number }>();
  for (const inv of inverters) {
    const readings = edges.readings.get(inv.serial) ?? [];
    const energy = energyOf(inv, readings);
    out.set(inv.serial, energy);
    // A counter that did not simply rise is read in full: its edges alone cannot tell a glitch from a
    // reset, nor count drops that its power readings show (README, "Reading the counters").
    if (
      edges.suspicious.has(inv.serial) ||
      energy.flags.some((f) => NEEDS_ALL_READINGS.includes(f.kind)) ||
      countedBelowPower(energy.totalWh, edges.powerWh.get(inv.serial))
    ) {
      const times = readings.map((r) => r.tMs);
      deeper.set(inv.serial, { fromMs: Math.min(fromMs - CONTEXT_MS, ...times), toMs: Math.max(toMs, ...times) });
    }
  }
  if (deeper.size > 0) {
    deps.log.info({ inverters: deeper.size }, 'billing: reading every reading of counters that did not simply rise');
    const all = await readAllAround(deps.influx, deeper, lookaroundMs);
    for (const inv of inverters)
      if (deeper.has(inv.serial))
        out.set(inv.serial, energyOf(inv, [...(edges.readings.get(inv.serial) ?? []), ...(all.get(inv.serial) ?? [])]));
  }
  return out;
}

/** The midnights of `days` where some installation's price changes: energy is split exactly there. */
export function splitInstantsOf(
  days: readonly (Slot & { date: string })[],
  contracts: ReadonlyMap<number, ContractTerms[]>,
  stepDowns: readonly StepDown[],
): number[] {
  const dates = days.map((d) => d.date);
  const changes = new Set([...contracts.values()].flatMap((c) => rateChangeDates(dates, c, stepDowns)));
  return days.filter((d) => changes.has(d.date)).map((d) => d.startMs);
}

/** What `readCounterEnergy` needs to know per installation. */
export interface MeteredInstallation {
  installationId: number;
  inverters: MeteredInverter[];
}
export type InstallationEnergy = Map<number, { days: { date: string; wh: number }[]; trace: EnergyTrace }>;

/** Each installation's energy per day, operators' decisions applied, with the counters behind it. */
export async function energyByInstallation(
  deps: CounterDeps,
  installations: readonly MeteredInstallation[],
  days: readonly (Slot & { date: string })[],
  evidence: {
    splitInstants: readonly number[];
    replacements: ReadonlyMap<string, Replacement[]>;
    reviews: ReadonlyMap<string, CounterReview>;
  },
): Promise<InstallationEnergy> {
  const energy = await readCounterEnergy(
    deps,
    installations.flatMap((i) => i.inverters),
    days,
    evidence,
  );
  const out: InstallationEnergy = new Map();
  const periodMs = days.length === 0 ? 0 : days[days.length - 1]!.endMs - days[0]!.startMs;
  for (const inst of installations) {
    const dayWh = days.map(() => 0);
    const trace: EnergyTrace = {};
    for (const { serial, ratedAcW } of inst.inverters) {
      const e = energy.get(serial)!;
      const review = evidence.reviews.get(serial);
      const boundWh = capacityBoundWh(ratedAcW, periodMs);
      const billed = reviewedSlotWh(e, review, boundWh);
      billed.forEach((wh, i) => {
        dayWh[i]! += wh;
      });
      trace[serial] = {
        wh: billed.reduce((a, b) => a + b, 0),
        heldWh: e.heldWh,
        epochs: e.epochs,
        flags: e.flags,
        ...(review ? { review } : {}),
        ...(review || e.flags.some((f) => IMPLAUSIBLE_FLAGS.includes(f.kind)) ? { boundWh } : {}),
      };
    }
    out.set(inst.installationId, { days: days.map((d, i) => ({ date: d.date, wh: dayWh[i]! })), trace });
  }
  return out;
}
