// The stream of bad messages a `malformed_messages` fault sends next to the valid readings, one
// kind after another, so the platform's rejection path is exercised with known inputs.
export const MALFORMED_KINDS = [
  'truncated_json',
  'wrong_type',
  'missing_field',
  'negative_counter',
  'unknown_state',
  'epoch_seconds',
  'empty_array',
  'not_json',
] as const;

export function malformedPayload(n: number, tMs: number): { kind: (typeof MALFORMED_KINDS)[number]; payload: string } {
  const kind = MALFORMED_KINDS[n % MALFORMED_KINDS.length]!;
  const base = { ts: tMs, energy_wh_total: 1, ac_power_w: 0, state: 'MPPT' };
  const payloads: Record<(typeof MALFORMED_KINDS)[number], string> = {
    truncated_json: '{"ts": 1, "energy_wh_total": ',
    wrong_type: JSON.stringify({ ...base, ac_power_w: 'high' }),
    missing_field: JSON.stringify({ ts: tMs, ac_power_w: 0, state: 'MPPT' }),
    negative_counter: JSON.stringify({ ...base, energy_wh_total: -5 }),
    unknown_state: JSON.stringify({ ...base, state: 'DANCING' }),
    epoch_seconds: JSON.stringify({ ...base, ts: Math.floor(tMs / 1000) }),
    empty_array: '[]',
    not_json: 'hello inverter',
  };
  return { kind, payload: payloads[kind] };
}
