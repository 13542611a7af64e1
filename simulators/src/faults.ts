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
  'not_producing',
  'arc_fault',
  'gradual_soiling',
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
      Type.Number({
        minimum: 0,
        maximum: 1,
        description: 'heavy_soiling / broken_string: fraction of DC power kept; gradual_soiling: the least kept',
      }),
    ),
    percentPerDay: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 100, description: 'gradual_soiling: DC power lost per day' }),
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
  /** gradual_soiling: fraction of DC power lost per day since `fromMs` (down to `factor`). */
  perDay: number;
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
    not_producing: 1,
    arc_fault: 1,
    gradual_soiling: 0.5,
  };
  return {
    kind: fault.kind,
    fromMs,
    untilMs,
    skewMs: (fault.skewSeconds ?? 0) * 1000,
    factor: fault.factor ?? defaults[fault.kind],
    perDay: (fault.percentPerDay ?? 0.5) / 100,
  };
}

/** Fraction of DC power a soiling or string fault keeps at tMs (gradual soiling builds up per day until cleaned). */
export function dcFactorOf(fault: ActiveFault, tMs: number): number {
  if (fault.kind === 'heavy_soiling' || fault.kind === 'broken_string') return fault.factor;
  if (fault.kind === 'gradual_soiling')
    return Math.max(fault.factor, 1 - (fault.perDay * (tMs - fault.fromMs)) / 86_400_000);
  return 1;
}

export const isActive = (fault: ActiveFault, tMs: number) => tMs >= fault.fromMs && tMs < fault.untilMs;
