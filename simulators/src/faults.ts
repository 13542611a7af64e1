// Faults a scenario can inject, each active over a window [fromMs, untilMs).
import { Type, type Static } from '@sinclair/typebox';

export const FAULT_KINDS = [
  'offline',
  'power_outage',
  'ground_fault',
  'counter_reset',
  'clock_skew',
  'duplicate_sends',
  'heavy_soiling',
  'broken_string',
  'malformed_messages',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const Fault = Type.Object(
  {
    serial: Type.String({ minLength: 1, description: 'the inverter, or "*" for every inverter' }),
    kind: Type.Union(FAULT_KINDS.map((k) => Type.Literal(k))),
    from: Type.String({ description: 'RFC 3339 start' }),
    until: Type.Optional(Type.String({ description: 'RFC 3339 end (exclusive); counter_reset needs none' })),
    skewSeconds: Type.Optional(Type.Number({ description: 'clock_skew: device clock minus true time' })),
    factor: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, description: 'heavy_soiling / broken_string: fraction of DC power kept' }),
    ),
  },
  { additionalProperties: false },
);
export type Fault = Static<typeof Fault>;

export interface ActiveFault {
  kind: FaultKind;
  fromMs: number;
  untilMs: number;
  skewMs: number;
  factor: number;
}

export function toActiveFault(fault: Fault): ActiveFault {
  const fromMs = Date.parse(fault.from);
  const untilMs =
    fault.kind === 'counter_reset' ? fromMs : fault.until ? Date.parse(fault.until) : Number.POSITIVE_INFINITY;
  const defaults: Record<FaultKind, number> = {
    heavy_soiling: 0.6,
    broken_string: 0.5,
    offline: 1,
    power_outage: 1,
    ground_fault: 1,
    counter_reset: 1,
    clock_skew: 1,
    duplicate_sends: 1,
    malformed_messages: 1,
  };
  return {
    kind: fault.kind,
    fromMs,
    untilMs,
    skewMs: (fault.skewSeconds ?? 0) * 1000,
    factor: fault.factor ?? defaults[fault.kind],
  };
}

export const isActive = (fault: ActiveFault, tMs: number) => tMs >= fault.fromMs && tMs < fault.untilMs;
