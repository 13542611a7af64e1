// Specific yield against peers (same province, similar tilt) and against the site's clear-sky
// model, over a window of complete days; a decline's shape tells soiling from an equipment loss.
import type { ClearSkyDays } from './clear-sky';
import { median } from './loss';
import type { DayEnergy, InstallationInfo, RuleConfig } from './types';

export interface Performance {
  /** Days of the window with data for this installation. */
  days: number;
  /** kWh/kWp over those days: own, the peers' median, the clear-sky expectation. */
  ownKwhPerKwp: number;
  peersKwhPerKwp: number | null;
  clearSkyKwhPerKwp: number;
  peers: number;
  /** Own / peers' specific yield per day over the history, oldest first (for the shape of a decline). */
  ratios: () => { date: string; ratio: number }[];
}

const tiltOf = (i: InstallationInfo) => i.tiltDeg ?? Math.round(Math.abs(i.latitude));
export const peerGroupOf = (i: InstallationInfo, toleranceDeg: number) =>
  `${i.provinceId}:${Math.round(tiltOf(i) / toleranceDeg)}`;

export class FleetPerformance {
  private readonly byInstallation = new Map<number, Performance>();
  /** The peers' median kWh/kWp per day over the window, per peer group (for expected energy). */
  private readonly groupDaily = new Map<string, number>();

  constructor(
    installations: InstallationInfo[],
    daily: ReadonlyMap<number, DayEnergy[]>,
    private readonly config: RuleConfig,
    private readonly clearSky: ClearSkyDays,
  ) {
    const groups = new Map<string, InstallationInfo[]>();
    for (const i of installations) {
      const key = peerGroupOf(i, config.peerTiltToleranceDeg);
      const list = groups.get(key);
      if (list) list.push(i);
      else groups.set(key, [i]);
    }
    for (const [key, members] of groups) this.analyseGroup(key, members, daily);
  }

  private analyseGroup(key: string, members: InstallationInfo[], daily: ReadonlyMap<number, DayEnergy[]>) {
    // Each installation's days come sorted by date (oldest first): no per-installation maps.
    const yields = new Map<string, number[]>(); // date → members' kWh/kWp
    for (const m of members)
      for (const d of daily.get(m.id) ?? []) {
        const y = d.wh / 1000 / m.dcKwp;
        const list = yields.get(d.date);
        if (list) list.push(y);
        else yields.set(d.date, [y]);
      }
    const medians = new Map<string, number>();
    for (const [date, list] of yields) if (list.length >= this.config.minPeers) medians.set(date, median(list));
    const windowDates = [...yields.keys()].sort().slice(-this.config.windowDays);
    const windowStart = windowDates[0] ?? '9999';
    const windowMedians = windowDates.map((d) => medians.get(d)).filter((v): v is number => v !== undefined);
    if (windowMedians.length > 0)
      this.groupDaily.set(key, windowMedians.reduce((a, b) => a + b, 0) / windowMedians.length);

    for (const m of members) {
      const days = daily.get(m.id) ?? [];
      const clearDay = this.clearSky.forSite(m);
      let ownSum = 0;
      let peerSum = 0;
      let clear = 0;
      let n = 0;
      let peered = 0;
      for (const d of days) {
        if (d.date < windowStart) continue;
        n += 1;
        ownSum += d.wh / 1000 / m.dcKwp;
        clear += clearDay(d.date);
        const med = medians.get(d.date);
        if (med !== undefined) {
          peerSum += med;
          peered += 1;
        }
      }
      this.byInstallation.set(m.id, {
        days: n,
        ownKwhPerKwp: ownSum,
        peersKwhPerKwp: peered === n && n > 0 ? peerSum : null,
        clearSkyKwhPerKwp: clear,
        peers: members.length - 1,
        // Only the few underperformers need the shape of their decline: computed on demand.
        ratios: () =>
          days
            .filter((d) => (medians.get(d.date) ?? 0) > 0)
            .map((d) => ({ date: d.date, ratio: d.wh / 1000 / m.dcKwp / medians.get(d.date)! })),
      });
    }
  }

  of(installationId: number): Performance | undefined {
    return this.byInstallation.get(installationId);
  }

  /** What the installation should produce per day now: its peers' recent median, else its clear-sky day. */
  expectedKwhPerDay(i: InstallationInfo, today: string): number {
    const peers = this.groupDaily.get(peerGroupOf(i, this.config.peerTiltToleranceDeg));
    return (peers ?? this.clearSky.kwhPerKwp(i, today)) * i.dcKwp;
  }
}

/**
 * A decline is soiling when it builds up gradually since the last day the installation matched its
 * peers (no single day explains half of it) at a slope of at least `minSlope` per day; a sudden
 * drop is an equipment loss (a broken string, a failed module, new shading).
 */
export function declineShape(
  ratios: { date: string; ratio: number }[],
  minSlopePercentPerDay: number,
): 'soiling' | 'equipment' {
  // The decline starts at the last day level with the peers (or where the history starts).
  let start = 0;
  for (let k = ratios.length - 1; k >= 0; k--)
    if (ratios[k]!.ratio >= 0.97) {
      start = k;
      break;
    }
  if (ratios.length - 1 - start < 3) return 'equipment';
  const segment = ratios.slice(start);
  const total = segment[0]!.ratio - segment[segment.length - 1]!.ratio;
  if (total <= 0) return 'equipment';
  let largestStep = 0;
  for (let k = 1; k < segment.length; k++)
    largestStep = Math.max(largestStep, segment[k - 1]!.ratio - segment[k]!.ratio);
  const slopePercent = (total / (segment.length - 1)) * 100;
  return largestStep <= total / 2 && slopePercent >= minSlopePercentPerDay ? 'soiling' : 'equipment';
}
