// What every rule shares during one evaluation: the clock, the sun, expectations and pricing.
import { ClearSkyDays, tehranDate } from './clear-sky';
import { lostRialsPerDay, paidRialPerKwh, roundKwh } from './loss';
import { FleetPerformance } from './performance';
import type { EvaluationInputs, Finding, InstallationInfo } from './types';

export class RuleContext {
  readonly today: string;
  readonly clearSky: ClearSkyDays;
  readonly performance: FleetPerformance;
  readonly activeByKey: Map<string, EvaluationInputs['active'][number]>;

  constructor(readonly inputs: EvaluationInputs) {
    this.today = tehranDate(inputs.nowMs);
    this.clearSky = new ClearSkyDays(inputs.config.clearSkyPerformanceRatio);
    this.performance = new FleetPerformance(inputs.installations, inputs.daily, inputs.config, this.clearSky);
    this.activeByKey = new Map(inputs.active.map((a) => [a.key, a]));
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

  /** A MAJOR finding about one inverter, losing its share of the installation's expected day. */
  inverterFinding(
    i: InstallationInfo,
    v: InstallationInfo['inverters'][number],
    f: Pick<Finding, 'key' | 'rule' | 'cause' | 'summary' | 'detail'>,
  ): Finding {
    return {
      ...f,
      severity: 'MAJOR',
      installationId: i.id,
      inverterId: v.id,
      provinceId: i.provinceId,
      area: null,
      affectedInstallations: 1,
      ...this.loss(i, this.expectedKwhPerDay(i) * inverterShare(i, v.ratedAcW)),
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
