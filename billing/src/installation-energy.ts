// Each installation's energy per day of a month: the counters of its inverters (read from InfluxDB
// by `counter-readings.ts`) turned into daily Wh by the pure core, with the epochs and flags behind
// them. Used by the month being billed and by the re-reading of closed months for late data.
import type { Logger } from 'pino';
import type { BillingConfig } from './config';
import type { InfluxClient } from '../../lib/influx/client';
import type { EnergyTrace } from './core/bill-month';
import { energyInSlots } from './core/counter-energy';
import { monthBounds, monthDays, type MonthId } from './core/solar-hijri';
import { rateChangeDates, type ContractTerms } from './core/tariff';
import { readCounterReadings } from './counter-readings';
import type { InstallationRecord } from './program-snapshot';

/** What reading counters needs: InfluxDB and the rules that decide where a month must be split exactly. */
export interface CounterDeps {
  influx: InfluxClient;
  config: Pick<BillingConfig, 'rules' | 'lookaroundDays'>;
  log: Logger;
}

export type InstallationEnergy = Map<number, { days: { date: string; wh: number }[]; trace: EnergyTrace }>;

/** Each installation's energy per day of the month, with the counter epochs and flags behind it. */
export async function energyByInstallation(
  deps: CounterDeps,
  installations: InstallationRecord[],
  contracts: ContractTerms[],
  month: MonthId,
): Promise<InstallationEnergy> {
  const days = monthDays(month);
  const { startMs, endMs } = monthBounds(month);
  const dates = days.map((d) => d.date);
  const changes = new Set(contracts.flatMap((c) => rateChangeDates(dates, c, deps.config.rules.stepDowns)));
  const splitInstants = days.filter((d) => changes.has(d.date)).map((d) => d.startMs);
  const provinces = [...new Set(installations.map((i) => i.provinceCode))].sort();
  const readings = await readCounterReadings(deps.influx, startMs, endMs, deps.config.lookaroundDays * 86_400_000, {
    splitInstants,
    provinces,
  });
  const out: InstallationEnergy = new Map();
  for (const inst of installations) {
    const dayWh = days.map(() => 0);
    const trace: EnergyTrace = {};
    for (const serial of inst.serials) {
      const energy = energyInSlots(readings.get(serial) ?? [], days);
      energy.slotWh.forEach((wh, i) => {
        dayWh[i]! += wh;
      });
      trace[serial] = { wh: energy.totalWh, epochs: energy.epochs, flags: energy.flags };
    }
    out.set(inst.installationId, { days: days.map((d, i) => ({ date: d.date, wh: dayWh[i]! })), trace });
  }
  return out;
}
