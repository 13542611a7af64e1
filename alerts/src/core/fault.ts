// fault: the newest reading says FAULT, or carries a fault event. THROTTLED (curtailment or
// clipping) is not a fault. Clears when a newer reading is no longer faulted; a silent device
// keeps its fault alert (silence is no evidence of repair).
import { inverterShare, type RuleContext } from './context';
import type { Clearance, Evaluation, Finding } from './types';

export function faultRule(ctx: RuleContext): Evaluation {
  const { installations, latest } = ctx.inputs;
  const faultEvents = new Set(ctx.config.faultEvents);
  const findings: Finding[] = [];
  const clearances: Clearance[] = [];
  for (const i of installations) {
    for (const v of i.inverters) {
      const key = `FAULT:inverter:${v.id}`;
      const existing = ctx.activeByKey.get(key);
      const reading = latest.get(v.serial);
      if (!reading) {
        if (existing) findings.push(keep(ctx, existing, i, v.id));
        continue;
      }
      const events = reading.events.filter((e) => faultEvents.has(e));
      if (reading.state !== 'FAULT' && events.length === 0) {
        if (existing) clearances.push({ id: existing.id, key, cause: existing.cause, detail: existing.detail });
        continue;
      }
      const expected = ctx.expectedKwhPerDay(i) * inverterShare(i, v.ratedAcW);
      findings.push({
        key,
        rule: 'FAULT',
        cause: events[0]?.toLowerCase() ?? 'fault',
        severity: 'MAJOR',
        installationId: i.id,
        inverterId: v.id,
        provinceId: i.provinceId,
        area: null,
        affectedInstallations: 1,
        summary: `inverter ${v.serial} of ${i.code} in fault${events.length ? ` (${events.join(', ')})` : ''}`,
        ...ctx.loss(i, expected),
        detail: { serial: v.serial, state: reading.state, events, readingAt: reading.atMs },
      });
    }
  }
  return { findings, clearances };
}

function keep(
  ctx: RuleContext,
  existing: { key: string; cause: string; detail: Record<string, unknown> },
  i: Parameters<RuleContext['loss']>[0],
  inverterId: number,
): Finding {
  const v = i.inverters.find((x) => x.id === inverterId)!;
  return {
    key: existing.key,
    rule: 'FAULT',
    cause: existing.cause,
    severity: 'MAJOR',
    installationId: i.id,
    inverterId,
    provinceId: i.provinceId,
    area: null,
    affectedInstallations: 1,
    summary: `inverter ${v.serial} of ${i.code} in fault (silent since)`,
    ...ctx.loss(i, ctx.expectedKwhPerDay(i) * inverterShare(i, v.ratedAcW)),
    detail: existing.detail,
  };
}
