// Energy per installation per complete Tehran day, from each day's last counter (the daily rollup).
import type { DayEnergy, InstallationInfo } from './types';

/** One Tehran day's closing counters, per serial. */
export interface DayCounters {
  date: string;
  counters: ReadonlyMap<string, number>;
}

/**
 * `days` are consecutive, oldest first; the first only opens the second. A day counts when every
 * inverter of the installation has that day and the day before, and no counter went backwards (a
 * replaced inverter's day is left out rather than guessed).
 */
export function installationDays(installations: readonly InstallationInfo[], days: readonly DayCounters[]) {
  const out = new Map<number, DayEnergy[]>();
  for (const i of installations) {
    const list: DayEnergy[] = [];
    for (let k = 1; k < days.length; k++) {
      const end = days[k]!.counters;
      const start = days[k - 1]!.counters;
      let wh = 0;
      let complete = i.inverters.length > 0;
      for (const v of i.inverters) {
        const e = end.get(v.serial);
        const s = start.get(v.serial);
        if (e === undefined || s === undefined || e < s) {
          complete = false;
          break;
        }
        wh += e - s;
      }
      if (complete) list.push({ date: days[k]!.date, wh });
    }
    if (list.length > 0) out.set(i.id, list);
  }
  return out;
}
