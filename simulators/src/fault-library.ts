// The labelled fault library: a fleet with every kind of fault injected at known places and
// times, each labelled with what a technician should be told (the rule and cause of the alert it
// must raise) or that it must raise nothing (a night-time outage, a 20-minute gap). What the
// alerts' quality suite and benchmark score the alerts against. Deterministic: no randomness
// beyond the scenario's seed.
import type { Fault } from './faults';
import { buildFleetModel } from './fleet';
import type { GroundTruth } from './ground-truth';
import type { PlannedInverter, Scenario } from './scenario';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export const LIBRARY_PROVINCES = [
  'Tehran',
  'Isfahan',
  'Yazd',
  'Fars',
  'Kerman',
  'Razavi Khorasan',
  'East Azerbaijan',
  'Gilan',
] as const;

export type IncidentKind =
  | 'outage'
  | 'communications'
  | 'not_producing'
  | 'ground_fault'
  | 'arc_fault'
  | 'step_loss'
  | 'soiling'
  | 'soiling_cleaned'
  | 'area_grid_staggered'
  | 'area_telecom'
  | 'night_outage'
  | 'short_gap';

/** What an incident must raise: a rule and the cause it must carry when it closes (or now). */
export interface Expectation {
  rule: 'OFFLINE' | 'AREA_OUTAGE' | 'FAULT' | 'UNDERPERFORMING';
  cause: string;
  /** One alert for the whole area, none per device. */
  area?: boolean;
}

export interface Incident {
  id: string;
  kind: IncidentKind;
  serials: string[];
  fromMs: number;
  /** When the cause ends (the last member back, the cleaning); null: lasts past the period. */
  untilMs: number | null;
  /** null: must raise nothing. */
  expect: Expectation | null;
  /** gradual soiling: the share of DC power lost per day. */
  perDay?: number;
}

export interface LabelledFleet {
  scenario: Scenario;
  incidents: Incident[];
  fromMs: number;
  toMs: number;
}

export interface LibraryOptions {
  /** Tehran midnight of the first day. */
  fromMs: number;
  days: number;
  perProvince: number;
  seed: number;
  intervalSeconds: number;
  prefix?: string;
}

/**
 * `perProvince` 5 kWp installations (one inverter each) at each of 8 province capitals (so peers
 * share the sky), and the incidents: area outages in the first two provinces (14 sites, grid with
 * staggered returns and telecom), device incidents on the others' installations, one per site.
 */
export function labelledFleet(options: LibraryOptions): LabelledFleet {
  const { fromMs, days, perProvince } = options;
  if (perProvince < 26) throw new Error('labelledFleet: at least 26 installations per province');
  if (days < 20) throw new Error('labelledFleet: at least 20 days (soiling takes 10 to reach 5 %)');
  const prefix = options.prefix ?? 'QA';
  const serial = (p: number, k: number) => `${prefix}-${p}-${String(k).padStart(3, '0')}`;
  const inverters = LIBRARY_PROVINCES.flatMap((province, p) =>
    Array.from({ length: perProvince }, (_, k) => ({ serial: serial(p, k), province, dcKwp: 5, ratedAcW: 5000 })),
  );
  /** Tehran wall-clock time on day d of the period. */
  const at = (d: number, hour: number) => fromMs + d * DAY_MS + hour * HOUR_MS;
  const iso = (ms: number) => new Date(ms).toISOString();
  const faults: Fault[] = [];
  const incidents: Incident[] = [];
  const add = (
    incident: Incident,
    fault: Omit<Fault, 'serial' | 'from' | 'until'>,
    untilOf?: (s: string) => number,
  ) => {
    incidents.push(incident);
    for (const s of incident.serials) {
      const until = untilOf?.(s) ?? incident.untilMs;
      faults.push({
        ...fault,
        serial: s,
        from: iso(incident.fromMs),
        ...(until !== null ? { until: iso(until) } : {}),
      });
    }
  };

  // Area outages: 14 of a province's sites (above the 50 % that makes an area).
  const area = (p: number) => Array.from({ length: 14 }, (_, k) => serial(p, k));
  const gridStart = at(8, 9);
  const gridReturn = (s: string) => at(8, 11) + Number(s.slice(-3)) * 3 * 60_000;
  add(
    {
      id: 'area-grid',
      kind: 'area_grid_staggered',
      serials: area(0),
      fromMs: gridStart,
      untilMs: gridReturn(serial(0, 13)),
      expect: { rule: 'AREA_OUTAGE', cause: 'grid', area: true },
    },
    { kind: 'power_outage' },
    gridReturn,
  );
  add(
    {
      id: 'area-telecom',
      kind: 'area_telecom',
      serials: area(1),
      fromMs: at(11, 10),
      untilMs: at(11, 12),
      expect: { rule: 'AREA_OUTAGE', cause: 'telecom', area: true },
    },
    { kind: 'offline' },
  );

  // Device incidents, one per installation, on sites 14.. of the first two provinces and all of the others.
  const free = LIBRARY_PROVINCES.flatMap((_, p) =>
    Array.from({ length: perProvince }, (_, k) => k)
      .filter((k) => p >= 2 || k >= 14)
      .map((k) => ({ p, k })),
  );
  // Interleave provinces so each kind is spread over the fleet.
  free.sort((a, b) => a.k - b.k || a.p - b.p);
  let next = 0;
  const site = () => {
    const s = free[next++];
    if (!s) throw new Error('labelledFleet: not enough installations for the incidents');
    return serial(s.p, s.k);
  };
  const device = (
    kind: IncidentKind,
    count: number,
    day: (n: number) => number,
    hours: (n: number) => [number, number | null],
    fault: Omit<Fault, 'serial' | 'from' | 'until'>,
    expect: Expectation | null,
  ) => {
    for (let n = 0; n < count; n++) {
      const d = day(n);
      const [from, until] = hours(n);
      add(
        {
          id: `${kind}-${n + 1}`,
          kind,
          serials: [site()],
          fromMs: at(d, from),
          untilMs: until === null ? null : at(d, until),
          expect,
          ...(fault.percentPerDay ? { perDay: fault.percentPerDay / 100 } : {}),
        },
        fault,
      );
    }
  };
  const spread = (first: number) => (n: number) => first + ((n * 3) % (days - first - 2));
  device(
    'outage',
    10,
    spread(2),
    (n) => [10 + (n % 3), 12 + (n % 3) + (n % 2)],
    { kind: 'power_outage' },
    {
      rule: 'OFFLINE',
      cause: 'outage',
    },
  );
  device(
    'communications',
    10,
    spread(3),
    (n) => [9.5 + (n % 4), 11.5 + (n % 4)],
    { kind: 'offline' },
    {
      rule: 'OFFLINE',
      cause: 'communications',
    },
  );
  device(
    'not_producing',
    6,
    spread(4),
    (n) => [10, n % 2 ? 13 : 15],
    { kind: 'not_producing' },
    {
      rule: 'OFFLINE',
      cause: 'not_producing',
    },
  );
  device(
    'ground_fault',
    3,
    spread(5),
    () => [11, 12],
    { kind: 'ground_fault' },
    {
      rule: 'FAULT',
      cause: 'ground_fault',
    },
  );
  device('arc_fault', 3, spread(6), () => [12, 13], { kind: 'arc_fault' }, { rule: 'FAULT', cause: 'arc_fault' });
  // Night-time outages and 20-minute gaps: nothing to tell a technician.
  device('night_outage', 4, spread(2), () => [22, 27], { kind: 'power_outage' }, null);
  device('short_gap', 4, spread(3), () => [11, 11 + 1 / 3], { kind: 'offline' }, null);
  // Losses that last: a 30 % step from a day on; soiling at 0.5 %/day, two of them cleaned.
  const stepDay = Math.min(12, days - 6);
  device(
    'step_loss',
    4,
    () => stepDay,
    () => [0, null],
    { kind: 'broken_string', factor: 0.7 },
    {
      rule: 'UNDERPERFORMING',
      cause: 'equipment',
    },
  );
  device(
    'soiling',
    2,
    () => 3,
    () => [0, null],
    { kind: 'gradual_soiling', percentPerDay: 0.5, factor: 0.5 },
    {
      rule: 'UNDERPERFORMING',
      cause: 'soiling',
    },
  );
  device(
    'soiling_cleaned',
    2,
    () => 3,
    () => [0, (days - 7) * 24], // cleaned on day days − 4
    { kind: 'gradual_soiling', percentPerDay: 0.5, factor: 0.5 },
    { rule: 'UNDERPERFORMING', cause: 'soiling' },
  );
  return {
    scenario: { seed: options.seed, intervalSeconds: options.intervalSeconds, inverters, faults },
    incidents,
    fromMs,
    toMs: fromMs + days * DAY_MS,
  };
}

/**
 * What the fleet would have produced without its faults: the same inverters, sites and weather,
 * simulated over the period (no publishing). Wh per Tehran day per serial, like the ground truth.
 */
export function faultFreeTwin(
  planned: PlannedInverter[],
  options: { seed: number; fromMs: number; toMs: number; intervalSeconds: number },
): GroundTruth['inverters'] {
  const healthy = planned.map((p) => ({ ...p, faults: [] }));
  const model = buildFleetModel(healthy, options.seed, options.fromMs, options.toMs, options.intervalSeconds);
  const stepMs = options.intervalSeconds * 1000;
  for (let t = options.fromMs; t <= options.toMs; t += stepMs)
    for (const inverter of model.inverters) {
      const emission = inverter.sim.step(t);
      model.truth.record(inverter.planned.spec.serial, t, emission.producedWh, inverter.sim.energyWhTotal);
    }
  return model.truth.snapshot().inverters;
}
