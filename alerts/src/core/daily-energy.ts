// Energy per installation per complete Tehran day, from each day's last counter (the daily rollup).
import type { DayEnergy, InstallationInfo } from './types';

const DAY_MS = 86_400_000;

/** One Tehran day's closing counters, per serial; `startMs` is its midnight. */
export interface DayCounters {
  date: string;
  startMs: number;
  counters: ReadonlyMap<string, number>;
}

/**
 * `days` are consecutive, oldest first; the first only opens the second. A day counts when every
 * inverter of the installation has that day and the day before, no counter went backwards (a reset),
 * and no replacement of one of them was recorded (`replacedAtMs`, per serial) on that day or the day
 * before. Across a replacement the counters are two inverters': a used one's higher counter would read
 * as its lifetime total produced that day. Which day spans it depends on readings the rollup does not
 * time (the new inverter may report only the next day), so both are left out. The part after the
 * replacement (from a recorded new counter) is not counted either: the old inverter's part of the day
 * is in no daily counter, and a partial day would read as a day of underperformance.
 */
export function installationDays(
  installations: readonly InstallationInfo[],
  days: readonly DayCounters[],
  replacedAtMs: ReadonlyMap<string, readonly number[]>,
) {
  const out = new Map<number, DayEnergy[]>();
  for (const i of installations) {
    const list: DayEnergy[] = [];
    for (let k = 1; k < days.length; k++) {
      const end = days[k]!.counters;
      const start = days[k - 1]!.counters;
      const [fromMs, toMs] = [days[k - 1]!.startMs, days[k]!.startMs + DAY_MS];
      let wh = 0;
      let complete = i.inverters.length > 0;
      for (const v of i.inverters) {
        const e = end.get(v.serial);
        const s = start.get(v.serial);
        const replaced = replacedAtMs.get(v.serial)?.some((t) => t >= fromMs && t < toMs) ?? false;
        if (e === undefined || s === undefined || e < s || replaced) {
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
