// What every rule shares during one evaluation: the clock, the sun, expectations and pricing.
import { tehranDate } from '../../../lib/program/tehran-time';
import { ClearSkyDays, Daylight } from './clear-sky';
import { lostRialsPerDay, paidRialPerKwh, roundKwh } from './loss';
import { FleetPerformance } from './performance';
import type { EvaluationInputs, Finding, GapOutcomes, InstallationInfo } from './types';

export class RuleContext {
  readonly today: string;
  readonly clearSky: ClearSkyDays;
  readonly performance: FleetPerformance;
  readonly activeByKey: Map<string, EvaluationInputs['active'][number]>;
  /** Whether the sun stayed up at a site over the offline window (now − window, now]. */
  readonly daylight: Daylight;

  constructor(readonly inputs: EvaluationInputs) {
    this.today = tehranDate(inputs.nowMs);
    this.clearSky = new ClearSkyDays(inputs.config.clearSkyPerformanceRatio);
    this.performance = new FleetPerformance(inputs.installations, inputs.daily, inputs.config, this.clearSky);
    this.activeByKey = new Map(inputs.active.map((a) => [a.key, a]));
    const windowMs = inputs.config.offlineAfterMinutes * 60_000;
    this.daylight = new Daylight(inputs.nowMs - windowMs, inputs.nowMs, inputs.config.sunUpElevationDeg);
  }

  private readonly areas = new Map<number, string>();
  /** The installation's area (memoised: several rules ask, per evaluation). */
  areaKey(i: InstallationInfo): string {
    let key = this.areas.get(i.id);
    if (key === undefined) {
      key = areaOf(i, this.inputs.config.areaCellDeg);
      this.areas.set(i.id, key);
    }
    return key;
  }

  get config() {
    return this.inputs.config;
  }

  expectedKwhPerDay(i: InstallationInfo): number {
    return this.performance.expectedKwhPerDay(i, this.today);
  }

  /** The loss columns of a finding about one installation. */
  loss(i: InstallationInfo, kwhPerDay: number): Pick<Finding, 'lostKwhPerDay' | 'lostRialsPerDay' | 'rialPerKwh'> {
    const lostKwhPerDay = roundKwh(kwhPerDay);
    return {
      lostKwhPerDay,
      lostRialsPerDay: lostRialsPerDay(lostKwhPerDay, i.rate),
      rialPerKwh: paidRialPerKwh(i.rate),
    };
  }

  /**
   * A MAJOR finding about one inverter, losing its share of the installation's expected day (times
   * `lossFactor`: the chance that a silence is a real outage, while its counter is unknown).
   */
  inverterFinding(
    i: InstallationInfo,
    v: InstallationInfo['inverters'][number],
    f: Pick<Finding, 'key' | 'rule' | 'cause' | 'summary' | 'detail'>,
    lossFactor = 1,
  ): Finding {
    return {
      ...f,
      severity: 'MAJOR',
      installationId: i.id,
      inverterId: v.id,
      provinceId: i.provinceId,
      area: null,
      affectedInstallations: 1,
      ...this.loss(i, this.expectedKwhPerDay(i) * inverterShare(i, v.ratedAcW) * lossFactor),
    };
  }

  /**
   * While a silence lasts nobody knows whether the site produced (a communications gap loses
   * nothing, an outage everything): its income at risk is the outage's loss times the chance that
   * a silence of this kind is an outage, estimated from how recent ones turned out once their
   * counters came back (Laplace's rule: (outages + 1) / (closed with evidence + 2); ½ with no history).
   */
  outageChance(kind: 'device' | 'area'): { probability: number; basis: string } {
    const h: GapOutcomes = this.inputs.gapHistory[kind];
    const n = h.outages + h.communications;
    return {
      probability: (h.outages + 1) / (n + 2),
      basis: `${h.outages} of ${n} recent ${kind === 'area' ? 'area ' : ''}silences with counter evidence were outages`,
    };
  }

  severityOfLoss(lostKwh: number, expectedKwh: number): Finding['severity'] {
    return expectedKwh > 0 && (lostKwh / expectedKwh) * 100 >= this.config.majorLossPercent ? 'MAJOR' : 'MINOR';
  }
}

/** An inverter's share of its installation (by AC rating), for losses of one inverter. */
export const inverterShare = (i: InstallationInfo, ratedAcW: number) => {
  const total = i.inverters.reduce((sum, v) => sum + v.ratedAcW, 0);
  return total > 0 ? ratedAcW / total : 1;
};

/** The area an installation belongs to for area outages: its province and a grid cell of `cellDeg`. */
export const areaOf = (i: InstallationInfo, cellDeg: number) => {
  const cell = (x: number) => (Math.floor(x / cellDeg) * cellDeg).toFixed(2);
  return `${i.provinceCode}:${cell(i.latitude)},${cell(i.longitude)}`;
};
