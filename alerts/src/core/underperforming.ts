// underperforming: specific yield over the window below the peers' (same province, similar tilt)
// by more than X %, and below the site's clear-sky expectation. A gradual decline is labelled
// soiling (it recovers after rain or cleaning); a sudden one an equipment loss.
import type { RuleContext } from './context';
import { declineShape } from './performance';
import type { Clearance, Evaluation, Finding } from './types';

export function underperformingRule(ctx: RuleContext): Evaluation {
  const config = ctx.config;
  const findings: Finding[] = [];
  const clearances: Clearance[] = [];
  for (const i of ctx.inputs.installations) {
    const key = `UNDERPERFORMING:installation:${i.id}`;
    const existing = ctx.activeByKey.get(key);
    const p = ctx.performance.of(i.id);
    if (!p || p.days < config.minDays || p.peersKwhPerKwp === null || p.peers < config.minPeers) continue;
    const deviationPercent = (1 - p.ownKwhPerKwp / p.peersKwhPerKwp) * 100;
    const clearSkyPercent = p.clearSkyKwhPerKwp > 0 ? (p.ownKwhPerKwp / p.clearSkyKwhPerKwp) * 100 : 100;
    const evidence = {
      days: p.days,
      peers: p.peers,
      ownKwhPerKwp: round2(p.ownKwhPerKwp),
      peersKwhPerKwp: round2(p.peersKwhPerKwp),
      clearSkyKwhPerKwp: round2(p.clearSkyKwhPerKwp),
      deviationPercent: round2(deviationPercent),
      clearSkyPercent: round2(clearSkyPercent),
    };
    if (deviationPercent <= config.underperformingPercent || clearSkyPercent >= config.underperformingClearSkyPercent) {
      if (existing) {
        const recovered = existing.cause === 'soiling' ? { recovered: 'rain or cleaning' } : {};
        clearances.push({ id: existing.id, key, cause: existing.cause, detail: { ...evidence, ...recovered } });
      }
      continue;
    }
    const lostKwh = ((p.peersKwhPerKwp - p.ownKwhPerKwp) / p.days) * i.dcKwp;
    const cause = declineShape(p.ratios(), config.soilingMinSlopePercentPerDay);
    findings.push({
      key,
      rule: 'UNDERPERFORMING',
      cause,
      severity: ctx.severityOfLoss(lostKwh, (p.peersKwhPerKwp / p.days) * i.dcKwp),
      installationId: i.id,
      inverterId: null,
      provinceId: i.provinceId,
      area: null,
      affectedInstallations: 1,
      summary: `${i.code} produced ${evidence.deviationPercent} % less per kWp than ${p.peers} peers over ${p.days} days (${cause})`,
      ...ctx.loss(i, lostKwh),
      detail: evidence,
    });
  }
  return { findings, clearances };
}

const round2 = (x: number) => Math.round(x * 100) / 100;
