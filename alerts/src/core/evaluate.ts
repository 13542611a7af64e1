// evaluate(inputs) → what is true now (findings) and which active alerts' causes went away.
import { RuleContext } from './context';
import { faultRule } from './fault';
import { notProducingRule } from './not-producing';
import { offlineRules } from './offline';
import { EVALUATED_RULES, type Evaluation, type EvaluationInputs } from './types';
import { underperformingRule } from './underperforming';

export function evaluate(inputs: EvaluationInputs): Evaluation {
  const ctx = new RuleContext(inputs);
  const results = [offlineRules(ctx), notProducingRule(ctx), faultRule(ctx), underperformingRule(ctx)];
  const findings = results.flatMap((r) => r.findings);
  const stillTrue = new Set(findings.map((f) => f.key));
  const clearances = new Map<bigint, Evaluation['clearances'][number]>();
  for (const c of results.flatMap((r) => r.clearances)) if (!stillTrue.has(c.key)) clearances.set(c.id, c);
  // Evaluated alerts about what is no longer monitored (installation decommissioned, inverter
  // removed) close; the rest that no rule mentioned had too little data to decide and stay open.
  const monitored = new Set<string>();
  for (const i of inputs.installations) {
    monitored.add(`installation:${i.id}`);
    for (const v of i.inverters) monitored.add(`inverter:${v.id}`);
  }
  for (const a of inputs.active) {
    if (!EVALUATED_RULES.includes(a.rule) || stillTrue.has(a.key) || clearances.has(a.id)) continue;
    if (a.rule !== 'AREA_OUTAGE' && monitored.has(a.key.split(':').slice(1).join(':'))) continue;
    clearances.set(a.id, {
      id: a.id,
      key: a.key,
      cause: a.cause,
      detail: { ...a.detail, reason: 'no longer monitored' },
    });
  }
  return { findings, clearances: [...clearances.values()] };
}
