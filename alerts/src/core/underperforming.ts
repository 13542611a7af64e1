// underperforming: an installation producing less per kWp than its peers (same province, similar
// tilt) and than its clear-sky expectation. Three shapes, each found as early as it can be told
// from day-to-day scatter:
// - soiling: a day-by-day decline against peers (a trend test), reported once it costs
//   ALERTS_SOILING_DETECT_PERCENT (fitted); it stays soiling until rain or cleaning restores the level;
// - a step (broken string, failed module, new shading): two days or more below peers by more than
//   ALERTS_UNDERPERFORMING_PERCENT after a level stretch, priced from the step on;
// - otherwise the window's average below peers by more than that (the original test).
import type { RuleContext } from './context';
import { type DayRatio, declineShape, stepLoss, soilingTrend } from './performance';
import type { Clearance, Evaluation, Finding, InstallationInfo } from './types';

/** Days after a step before it is called one (a single bad day can be a local cloud). */
const STEP_MIN_DAYS = 2;
/** The t statistic a decline must reach to be a trend, not scatter. */
const TREND_MIN_T = 3;
/** Days a soiling decline must have run (at 0.5 %/day, 5 % takes 10). */
const TREND_MIN_DAYS = 4;
export const RECOVERED_NOTE = 'rain or cleaning';

export function underperformingRule(ctx: RuleContext): Evaluation {
  const config = ctx.config;
  const threshold = config.underperformingPercent / 100;
  const soilingThreshold = config.soilingDetectPercent / 100;
  const findings: Finding[] = [];
  const clearances: Clearance[] = [];
  for (const i of ctx.inputs.installations) {
    const key = `UNDERPERFORMING:installation:${i.id}`;
    const existing = ctx.activeByKey.get(key);
    const p = ctx.performance.of(i.id);
    if (!p || p.days < config.minDays || p.peersKwhPerKwp === null || p.peers < config.minPeers) continue;
    // No alert to keep, and the newest day neither below its peers (step, level) nor below its
    // best day by half the soiling threshold (trend): nothing to find. Most of a fleet is screened
    // out here, before its day-by-day history is built.
    const last0 = p.lastRatio;
    if (
      !existing &&
      (last0 === null || (last0 >= 1 - threshold / 2 && last0 >= p.maxRatio * (1 - soilingThreshold / 2)))
    )
      continue;
    const deviationPercent = (1 - p.ownKwhPerKwp / p.peersKwhPerKwp) * 100;
    const clearSkyPercent = p.clearSkyKwhPerKwp > 0 ? (p.ownKwhPerKwp / p.clearSkyKwhPerKwp) * 100 : 100;
    const belowClearSky = clearSkyPercent < config.underperformingClearSkyPercent;
    const evidence: Record<string, unknown> = {
      days: p.days,
      peers: p.peers,
      ownKwhPerKwp: round2(p.ownKwhPerKwp),
      peersKwhPerKwp: round2(p.peersKwhPerKwp),
      clearSkyKwhPerKwp: round2(p.clearSkyKwhPerKwp),
      deviationPercent: round2(deviationPercent),
      clearSkyPercent: round2(clearSkyPercent),
    };
    const peersPerDay = p.peersKwhPerKwp / p.days;
    const ratios = p.ratios();
    const last = ratios[ratios.length - 1];
    const clear = (cause: string, extra: Record<string, unknown> = {}) => {
      if (existing) clearances.push({ id: existing.id, key, cause, detail: { ...evidence, ...extra } });
    };
    const find = (cause: string, lostKwh: number, extra: Record<string, unknown>) => {
      const detail = { ...evidence, ...extra };
      findings.push({
        key,
        rule: 'UNDERPERFORMING',
        cause,
        severity: ctx.severityOfLoss(lostKwh, peersPerDay * i.dcKwp),
        installationId: i.id,
        inverterId: null,
        provinceId: i.provinceId,
        area: null,
        affectedInstallations: 1,
        summary: summaryOf(i, cause, lostKwh, peersPerDay * i.dcKwp, p.peers),
        ...ctx.loss(i, lostKwh),
        detail,
      });
    };
    if (!last) continue;

    // Soiling that rain or cleaning washed off closes as soiling, with the note.
    const cleanLevel = typeof existing?.detail.levelRatio === 'number' ? existing.detail.levelRatio : 1;
    if (existing?.cause === 'soiling' && last.ratio >= cleanLevel - soilingThreshold / 2) {
      clear('soiling', { recovered: RECOVERED_NOTE, ratioNow: round3(last.ratio), levelRatio: round3(cleanLevel) });
      continue;
    }

    const trend = soilingTrend(ratios);
    // A decline against peers is its own evidence; it only has to be below clear sky at all (not
    // a site beating the model while its peers beat it more).
    if (
      clearSkyPercent < 100 &&
      trend &&
      trend.gradual &&
      ratios.length - 1 - trend.start >= TREND_MIN_DAYS &&
      trend.slopePerDay * 100 >= config.soilingMinSlopePercentPerDay &&
      trend.t >= TREND_MIN_T &&
      trend.lossFraction >= soilingThreshold
    ) {
      find('soiling', (trend.level - trend.now) * peersPerDay * i.dcKwp, {
        levelRatio: round3(trend.level),
        ratioNow: round3(trend.now),
        lossPercent: round2(trend.lossFraction * 100),
        slopePercentPerDay: round2(trend.slopePerDay * 100),
        trendT: round2(trend.t),
        since: ratios[trend.start]!.date,
      });
      continue;
    }

    // Still below peers on the last two complete days: a site that produced like its peers
    // yesterday is not underperforming today, whatever its week's average says, and one bad day
    // (an outage, a dead spell: alerted by their own rules) is not underperformance either.
    const lowNow = ratios.length >= 2 && ratios.slice(-2).every((d) => d.ratio < 1 - threshold / 2);
    const step = lowNow ? stepLoss(ratios) : null;
    const isStep =
      step !== null &&
      ratios.length - step.start >= STEP_MIN_DAYS &&
      step.after < step.before * (1 - threshold) &&
      ratios.slice(step.start).every((d) => d.ratio < step.before * (1 - threshold / 2));
    const levelFires = lowNow && deviationPercent > config.underperformingPercent && belowClearSky;
    if ((isStep && belowClearSky) || levelFires) {
      const cause = isStep ? 'equipment' : declineShape(ratios, config.soilingMinSlopePercentPerDay);
      if (cause === 'equipment' && step && isStep) {
        // Priced from the step on: what the peers made per kWp those days, less its own.
        find('equipment', lostSince(ratios, step.start) * i.dcKwp, {
          since: ratios[step.start]!.date,
          ratioBefore: round3(step.before),
          ratioAfter: round3(step.after),
        });
      } else {
        find(cause, ((p.peersKwhPerKwp - p.ownKwhPerKwp) / p.days) * i.dcKwp, {});
      }
      continue;
    }

    // Soiling still on (its trend flattened at a cap): it stays open until the level is back.
    if (existing?.cause === 'soiling' && last.ratio < cleanLevel - soilingThreshold) {
      find('soiling', (cleanLevel - last.ratio) * peersPerDay * i.dcKwp, {
        levelRatio: round3(cleanLevel),
        ratioNow: round3(last.ratio),
      });
      continue;
    }
    clear(existing?.cause ?? 'equipment');
  }
  return { findings, clearances };
}

/** kWh/kWp a day lost since day `start`: the peers' yield those days less its own. */
const lostSince = (ratios: DayRatio[], start: number) => {
  const days = ratios.slice(start);
  return days.reduce((sum, d) => sum + d.peers * (1 - d.ratio), 0) / days.length;
};

const summaryOf = (i: InstallationInfo, cause: string, lostKwh: number, expectedKwh: number, peers: number) =>
  `${i.code} produces ${round2(expectedKwh > 0 ? (lostKwh / expectedKwh) * 100 : 0)} % less per kWp than ${peers} peers (${cause})`;

const round2 = (x: number) => Math.round(x * 100) / 100;
const round3 = (x: number) => Math.round(x * 1000) / 1000;
