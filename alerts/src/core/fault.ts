// fault: the newest reading says FAULT, or carries a fault event. THROTTLED (curtailment or
// clipping) is not a fault. Clears when a newer reading is no longer faulted; a silent device
// keeps its fault alert (silence is no evidence of repair).
import type { RuleContext } from './context';
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
        // Silent: the fault stays as it was last seen.
        if (existing)
          findings.push(
            ctx.inverterFinding(i, v, {
              key,
              rule: 'FAULT',
              cause: existing.cause,
              summary: `inverter ${v.serial} of ${i.code} in fault, silent since`,
              detail: existing.detail,
            }),
          );
        continue;
      }
      const events = reading.events.filter((e) => faultEvents.has(e));
      if (reading.state !== 'FAULT' && events.length === 0) {
        if (existing) clearances.push({ id: existing.id, key, cause: existing.cause, detail: existing.detail });
        continue;
      }
      findings.push(
        ctx.inverterFinding(i, v, {
          key,
          rule: 'FAULT',
          cause: events[0]?.toLowerCase() ?? 'fault',
          summary: `inverter ${v.serial} of ${i.code} in fault${events.length ? ` (${events.join(', ')})` : ''}`,
          detail: { serial: v.serial, state: reading.state, events, readingAt: reading.atMs },
        }),
      );
    }
  }
  return { findings, clearances };
}
