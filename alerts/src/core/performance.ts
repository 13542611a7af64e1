// Specific yield against peers (same province, similar tilt) and against the site's clear-sky
// model, over a window of complete days; a decline's shape tells soiling from an equipment loss.
import type { ClearSkyDays } from './clear-sky';
import { median } from './loss';
import type { DayEnergy, InstallationInfo, RuleConfig } from './types';

export interface DayRatio {
  date: string;
  /** Own kWh/kWp ÷ the peers' median. */
  ratio: number;
  /** The peers' median kWh/kWp that day. */
  peers: number;
}

export interface Performance {
  /** Days of the window with data for this installation. */
  days: number;
  /** kWh/kWp over those days: own, the peers' median, the clear-sky expectation. */
  ownKwhPerKwp: number;
  peersKwhPerKwp: number | null;
  clearSkyKwhPerKwp: number;
  peers: number;
  /** Own / peers' specific yield on the newest day with peers (null: none), and its highest over
   * the history: screen out installations that cannot have declined. */
  lastRatio: number | null;
  maxRatio: number;
  /** Own / peers' specific yield per day over the history, oldest first (for the shape of a decline). */
  ratios: () => DayRatio[];
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
      let maxRatio = 0;
      for (const d of days) {
        const med = medians.get(d.date);
        if (med) maxRatio = Math.max(maxRatio, d.wh / 1000 / m.dcKwp / med);
      }
      const lastDay = days[days.length - 1];
      const lastMedian = lastDay ? medians.get(lastDay.date) : undefined;
      this.byInstallation.set(m.id, {
        days: n,
        lastRatio: lastDay && lastMedian ? lastDay.wh / 1000 / m.dcKwp / lastMedian : null,
        maxRatio,
        ownKwhPerKwp: ownSum,
        peersKwhPerKwp: peered === n && n > 0 ? peerSum : null,
        clearSkyKwhPerKwp: clear,
        peers: members.length - 1,
        // Only the few below their peers need the shape of their decline: computed on demand.
        ratios: () =>
          days
            .filter((d) => (medians.get(d.date) ?? 0) > 0)
            .map((d) => ({
              date: d.date,
              ratio: d.wh / 1000 / m.dcKwp / medians.get(d.date)!,
              peers: medians.get(d.date)!,
            })),
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

/** Day-to-day scatter of a ratio to peers assumed at least (a perfect fit is no proof of a trend). */
const MIN_RESIDUAL = 0.002;

export interface SoilingTrend {
  /** Index of the last clean day (the decline starts after it). */
  start: number;
  /** The clean level of the ratio to peers, and the fitted ratio on the last day. */
  level: number;
  now: number;
  /** Decline per day (ratio units) and its t statistic. */
  slopePerDay: number;
  t: number;
  /** (level − now) / level. */
  lossFraction: number;
  /** The largest single-day drop is at most half of the decline (not a step). */
  gradual: boolean;
}

/**
 * Soiling's signature against peers: a ratio flat at its clean level, then falling linearly day by
 * day. Fits that hinge by least squares for every possible start (at least 3 declining days) and
 * keeps the best; the slope's t statistic says whether the decline is more than day-to-day scatter.
 */
export function soilingTrend(ratios: DayRatio[]): SoilingTrend | null {
  const n = ratios.length;
  if (n < 4) return null;
  // Suffix sums make each candidate start O(1): with x = d − s after the start, 0 before it,
  // Σx, Σx² depend on m = n − s only, and Σxr = Σ_{d≥s} d·r − s·Σ_{d≥s} r.
  let sy = 0;
  let syy = 0;
  for (const d of ratios) {
    sy += d.ratio;
    syy += d.ratio * d.ratio;
  }
  let tail0 = 0; // Σ_{d≥s} r
  let tail1 = 0; // Σ_{d≥s} d·r
  let best: { s: number; level: number; b: number; sse: number; centred: number } | null = null;
  for (let s = n - 1; s >= 0; s--) {
    const r = ratios[s]!.ratio;
    tail0 += r;
    tail1 += s * r;
    const m = n - s;
    if (m < 4) continue;
    const sx = (m * (m - 1)) / 2;
    const sxx = ((m - 1) * m * (2 * m - 1)) / 6;
    const sxy = tail1 - s * tail0;
    const centred = sxx - (sx * sx) / n;
    if (centred <= 0) continue;
    const b = (sxy - (sx * sy) / n) / centred;
    const level = (sy - b * sx) / n;
    const sse = Math.max(0, syy - 2 * level * sy - 2 * b * sxy + n * level * level + 2 * level * b * sx + b * b * sxx);
    if (!best || sse < best.sse) best = { s, level, b, sse, centred };
  }
  if (!best) return null;
  const { s, level, b, sse, centred } = best;
  const residual = Math.max(MIN_RESIDUAL, Math.sqrt(sse / Math.max(1, n - 2)));
  const now = level + b * (n - 1 - s);
  let largestDrop = 0;
  for (let d = s + 1; d < n; d++) largestDrop = Math.max(largestDrop, ratios[d - 1]!.ratio - ratios[d]!.ratio);
  return {
    start: s,
    level,
    now,
    slopePerDay: -b,
    t: -b / (residual / Math.sqrt(centred)),
    lossFraction: level > 0 ? (level - now) / level : 0,
    gradual: largestDrop <= (level - now) / 2,
  };
}

export interface StepLoss {
  /** Index of the first day after the step. */
  start: number;
  before: number;
  after: number;
}

/**
 * A sudden loss: the split of the history into a level before and a lower level after (at least
 * two days each side) that leaves the least scatter. A broken string or a failed module costs
 * from its day on, so it is priced from there, not over a window that includes healthy days.
 */
export function stepLoss(ratios: DayRatio[]): StepLoss | null {
  const r = ratios.map((d) => d.ratio);
  const n = r.length;
  let best: StepLoss | null = null;
  let bestSse = Number.POSITIVE_INFINITY;
  for (let s = 2; s <= n - 2; s++) {
    const before = r.slice(0, s).reduce((a, b) => a + b, 0) / s;
    const after = r.slice(s).reduce((a, b) => a + b, 0) / (n - s);
    let sse = 0;
    for (let d = 0; d < n; d++) sse += (r[d]! - (d < s ? before : after)) ** 2;
    if (sse < bestSse) {
      bestSse = sse;
      best = { start: s, before, after };
    }
  }
  return best;
}
