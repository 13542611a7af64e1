// The demo program npm start seeds: installations, inverters, people, shares, contracts, loans,
// the faults of its history, and when each past month is closed and paid. Pure and deterministic:
// the same size, seed and instant give the same plan.
//
// What it looks like (at any size from 4 installations up):
//  - three of every four installations are 5 kWp family roofs with one beneficiary; every fourth is a
//    shared plant of 15–100 kWp with one 5 kW share per person (3–20 people), spread over the provinces;
//  - beneficiaries of every target group, with fictional identifiers (identities.ts); a few have no
//    Sheba yet (their payout is withheld until they do);
//  - contracts with the published tariffs: support contracts 30,000 Rial/kWh until Nowruz 1404
//    (2025-03-21), 38,500 since; ordinary contracts from 2018–2019 at 25,000, stepped down from
//    their 8th year (some of them within the history);
//  - loans repaid from income (4 % over 84 months), due from the first billed month;
//  - shares that start and end mid-month in shared plants;
//  - history: the three months before the current one, with an outage (inverter tripped for two
//    days), heavy soiling (three dusty weeks), a counter reset (inverter replaced) and one late flush
//    (a datalogger offline across a month's end that sends its buffer only after that month closed).
import { loadProvinces } from '../../lib/provinces';
import { monthBounds, monthDays, monthOf, nextMonth, previousMonth, type MonthId } from '../../lib/program/solar-hijri';
import type { Scenario } from '../../simulators';
import { fictionalMobile, fictionalNationalCode, fictionalSheba, persianName } from './identities';

export const TARGET_GROUPS = [
  'WOMAN_HEAD_OF_HOUSEHOLD',
  'PERSON_WITH_DISABILITY',
  'RECOVERED_FROM_ADDICTION',
  'INDEPENDENT_YOUNG_ADULT',
  'OTHER',
] as const;
export type TargetGroup = (typeof TARGET_GROUPS)[number];

export interface DemoBeneficiary {
  nationalCode: string;
  fullName: string;
  mobile: string;
  sheba: string | null;
  provinceCode: string;
  targetGroup: TargetGroup;
  pin: string;
}
export interface DemoShare {
  /** Index into the plan's beneficiaries. */
  beneficiary: number;
  weightW: number;
  validFrom: string;
  validUntil: string | null;
}
export interface DemoInstallation {
  code: string;
  name: string;
  kind: 'roof' | 'shared';
  serial: string;
  provinceCode: string;
  provinceName: string;
  latitude: number;
  longitude: number;
  dcKwp: number;
  ratedAcW: number;
  commissionedOn: string;
  /** The inverter's lifetime counter when the history begins (it has been producing since commissioning). */
  initialCounterWh: number;
  contract: {
    reference: string;
    kind: 'SUPPORT' | 'ORDINARY';
    startDate: string;
    tariffs: { from: string; until: string | null; rialPerKwh: number }[];
  };
  loan: {
    reference: string;
    principalRials: bigint;
    installmentRials: bigint;
    installments: number;
    firstDueMonth: MonthId;
  } | null;
  shares: DemoShare[];
}
export type DemoStep =
  | { atMs: number; kind: 'close'; month: MonthId }
  | { atMs: number; kind: 'pay'; month: MonthId }
  | { atMs: number; kind: 'draft'; month: MonthId };

export interface DemoPlan {
  installations: DemoInstallation[];
  beneficiaries: DemoBeneficiary[];
  /** Inverters and the history's faults, for the simulator (the live fleet runs the same inverters without faults). */
  scenario: Scenario;
  history: MonthId[];
  current: MonthId;
  backfill: { fromMs: number; toMs: number; intervalSeconds: number };
  /** Billing steps at their place in the history's timeline, in order; the last drafts the running month. */
  steps: DemoStep[];
  /**
   * When the alerts evaluator runs in the replayed history (as the alerts job would have), so the
   * past months carry their alerts opened and closed: every two hours by day (Tehran) across each of
   * the history's incidents an evaluation can see from the readings, and a day after it.
   */
  alertChecks: number[];
  /** Two beneficiaries to sign in as: one on a family roof, one in a shared plant. */
  logins: number[];
}

export interface DemoOptions {
  installations: number;
  nowMs: number;
  /** BILLING_CLOSE_DAY: a month is closed on this day of the next one, as the scheduler would. */
  closeDay: number;
  intervalSeconds: number;
  seed?: number;
}

export const MIN_INSTALLATIONS = 4;
const SUPPORT_RAISE = '2025-03-21'; // Nowruz 1404: 30,000 → 38,500 Rial/kWh
const SHARED_KWP = [15, 20, 25, 30, 40, 50, 60, 75, 100];
const DAY = 86_400_000;
const H = 3_600_000;

/** Deterministic [0, 1) from a seed and integers (mulberry32 of a mixed key). */
function rand(seed: number, ...keys: number[]): number {
  let t = keys.reduce((h, k) => Math.imul(h ^ k, 0x9e3779b1) >>> 0, seed >>> 0) + 0x6d2b79f5;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const iso = (ms: number) => new Date(ms).toISOString();

/** Monthly installment of an annuity, to the next 1,000 Rials (loan terms are inputs to billing, not its arithmetic). */
function installment(principal: number, annualPercent: number, months: number): bigint {
  const r = annualPercent / 100 / 12;
  return BigInt(Math.ceil((principal * r) / (1 - (1 + r) ** -months) / 1000) * 1000);
}

export function buildDemoPlan(options: DemoOptions): DemoPlan {
  const n = options.installations;
  if (!Number.isInteger(n) || n < MIN_INSTALLATIONS)
    throw new RangeError(`the demo program needs at least ${MIN_INSTALLATIONS} installations, got ${n}`);
  const seed = options.seed ?? 1405;
  const provinces = loadProvinces();
  const current = monthOf(options.nowMs);
  const m1 = previousMonth(current);
  const m2 = previousMonth(m1);
  const m3 = previousMonth(m2);
  const history = [m3, m2, m1];
  const historyStartMs = monthBounds(m3).startMs;
  const day = (month: MonthId, d: number) => monthDays(month)[d - 1]!;
  const pins = Array.from({ length: 6 }, (_, k) => String(100_000 + Math.floor(rand(seed, 7, k) * 900_000)));

  const beneficiaries: DemoBeneficiary[] = [];
  const addPerson = (provinceCode: string, roof: boolean): number => {
    const i = beneficiaries.length;
    // Families on their own roof are mostly women heading a household or people with disabilities.
    const u = rand(seed, 1, i);
    const targetGroup: TargetGroup =
      i < TARGET_GROUPS.length
        ? TARGET_GROUPS[i]!
        : roof
          ? u < 0.55
            ? 'WOMAN_HEAD_OF_HOUSEHOLD'
            : 'PERSON_WITH_DISABILITY'
          : TARGET_GROUPS[[0, 0, 0, 1, 1, 1, 2, 3, 3, 4][Math.floor(u * 10)]!]!;
    const female = targetGroup === 'WOMAN_HEAD_OF_HOUSEHOLD' || rand(seed, 2, i) < 0.5;
    beneficiaries.push({
      nationalCode: fictionalNationalCode(i),
      fullName: persianName(female, rand(seed, 3, i), rand(seed, 4, i)),
      mobile: fictionalMobile(i),
      sheba: i % 37 === 36 ? null : fictionalSheba(i),
      provinceCode,
      targetGroup,
      pin: pins[i % pins.length]!,
    });
    return i;
  };

  const installations: DemoInstallation[] = [];
  let sharedCount = 0;
  for (let i = 0; i < n; i++) {
    const province = provinces[i % provinces.length]!;
    const shared = i % 4 === 3;
    const number = String(i + 1).padStart(4, '0');
    const dcKwp = shared ? SHARED_KWP[Math.floor(rand(seed, 10, i) * SHARED_KWP.length)]! : 5;
    const ordinary = !shared && i % 5 === 2;
    // Ordinary contracts began in 2018–2019 (their 8th year starts in 2025–2026); support plants since Dec 2023.
    const commissionedMs = ordinary
      ? Date.UTC(2018, 4, 1) + Math.floor(rand(seed, 11, i) * 540) * DAY
      : Date.UTC(2023, 11, 1) +
        Math.floor(rand(seed, 11, i) * ((historyStartMs - 60 * DAY - Date.UTC(2023, 11, 1)) / DAY)) * DAY;
    const commissionedOn = isoDate(commissionedMs);
    const years = (historyStartMs - commissionedMs) / (365.25 * DAY);
    const tariffs = ordinary
      ? [{ from: commissionedOn, until: null, rialPerKwh: 25_000 }]
      : commissionedOn < SUPPORT_RAISE
        ? [
            { from: commissionedOn, until: SUPPORT_RAISE, rialPerKwh: 30_000 },
            { from: SUPPORT_RAISE, until: null, rialPerKwh: 38_500 },
          ]
        : [{ from: commissionedOn, until: null, rialPerKwh: 38_500 }];
    const hasLoan = shared ? sharedCount % 3 !== 2 : !ordinary && i % 2 === 0;
    const principal = dcKwp * (shared ? 80_000_000 : 100_000_000);
    const inst: DemoInstallation = {
      code: `DEMO-${number}`,
      name: shared ? `نیروگاه مشترک ${province.nameFa} ${number}` : `بام خانواده ${province.nameFa} ${number}`,
      kind: shared ? 'shared' : 'roof',
      serial: `DEMO-INV-${number}`,
      provinceCode: province.code,
      provinceName: province.nameEn,
      // Towns around the capital: each installation has its own sun and clouds.
      latitude: Math.round((province.latitude + (rand(seed, 12, i) - 0.5) * 0.4) * 1000) / 1000,
      longitude: Math.round((province.longitude + (rand(seed, 13, i) - 0.5) * 0.4) * 1000) / 1000,
      dcKwp,
      ratedAcW: dcKwp * 1000,
      commissionedOn,
      initialCounterWh: Math.round(dcKwp * 1_650_000 * years),
      contract: {
        reference: `DEMO-C-${number}`,
        kind: ordinary ? 'ORDINARY' : 'SUPPORT',
        startDate: commissionedOn,
        tariffs,
      },
      loan: hasLoan
        ? {
            reference: `DEMO-L-${number}`,
            principalRials: BigInt(principal),
            installmentRials: installment(principal, 4, 84),
            installments: 84,
            // Repayment began with the first month the demo ledger holds (there is no earlier ledger to have repaid it).
            firstDueMonth: i % 3 === 0 ? m2 : m3,
          }
        : null,
      shares: [],
    };
    if (!shared) {
      inst.shares.push({
        beneficiary: addPerson(province.code, true),
        weightW: 5000,
        validFrom: commissionedOn,
        validUntil: null,
      });
    } else {
      const seats = dcKwp / 5;
      const churn = sharedCount % 3;
      for (let s = 0; s < seats; s++) {
        const person = addPerson(province.code, false);
        if (s === seats - 1 && churn === 0) {
          // Leaves on day 20 of M-2; someone new takes the seat the same day.
          const leaves = day(m2, 20).date;
          inst.shares.push({ beneficiary: person, weightW: 5000, validFrom: commissionedOn, validUntil: leaves });
          inst.shares.push({
            beneficiary: addPerson(province.code, false),
            weightW: 5000,
            validFrom: leaves,
            validUntil: null,
          });
        } else if (s === seats - 1 && churn === 1) {
          // The seat stood empty (its income went to the program pool) until day 11 of M-1.
          inst.shares.push({ beneficiary: person, weightW: 5000, validFrom: day(m1, 11).date, validUntil: null });
        } else if (s === seats - 1 && churn === 2) {
          // Joins on day 3 of the running month.
          inst.shares.push({ beneficiary: person, weightW: 5000, validFrom: day(current, 3).date, validUntil: null });
        } else inst.shares.push({ beneficiary: person, weightW: 5000, validFrom: commissionedOn, validUntil: null });
      }
      sharedCount += 1;
    }
    installations.push(inst);
  }

  const stepMs = options.intervalSeconds * 1000;
  const fromMs = Math.floor((historyStartMs - DAY) / stepMs) * stepMs;
  const toMs = Math.floor(options.nowMs / stepMs) * stepMs;
  const closeAt = (month: MonthId) => Math.min(day(nextMonth(month), options.closeDay).startMs + 2.5 * H, toMs);

  // Faults, each on its own installation: 0 late flush, 1 soiling, 2 counter reset, 3 (a shared plant) outage.
  const serial = (i: number) => installations[i]!.serial;
  const lateFlushUntil = closeAt(m3) + 1.5 * DAY;
  const faults: NonNullable<Scenario['faults']> = [
    { serial: serial(0), kind: 'offline', from: iso(monthBounds(m3).endMs - 3.2 * DAY), until: iso(lateFlushUntil) },
    {
      serial: serial(3),
      kind: 'ground_fault',
      from: iso(day(m2, 12).startMs + 9 * H),
      until: iso(day(m2, 14).startMs + 15 * H),
    },
    { serial: serial(2), kind: 'counter_reset', from: iso(day(m1, 17).startMs + 10.5 * H) },
  ];
  for (let i = 1; i < n; i += 7)
    faults.push({
      serial: serial(i),
      kind: 'heavy_soiling',
      from: iso(day(m3, 4).startMs),
      until: iso(day(m3, 25).startMs),
      factor: 0.62,
    });

  // The late flush's silence (OFFLINE, closed when its buffer arrives) and the ground
  // fault (FAULT). Soiling is judged from daily rollups, which the seed leaves to the background.
  const daytime = [...history, current].flatMap((m) =>
    monthDays(m).flatMap((d) => [8, 10, 12, 14, 16].map((hour) => d.startMs + hour * H)),
  );
  const alertChecks = [
    ...new Set(
      faults
        .filter((f) => f.kind === 'offline' || f.kind === 'ground_fault')
        .flatMap((f) =>
          daytime.filter((t) => t >= Date.parse(f.from) - 2 * H && t <= Date.parse(f.until ?? f.from) + DAY),
        ),
    ),
  ]
    .filter((t) => t > fromMs && t < toMs)
    .sort((a, b) => a - b);

  const steps: DemoStep[] = [
    { atMs: closeAt(m3), kind: 'close', month: m3 },
    { atMs: Math.min(closeAt(m3) + 2 * DAY, toMs), kind: 'pay', month: m3 },
    { atMs: closeAt(m2), kind: 'close', month: m2 },
    { atMs: closeAt(m1), kind: 'close', month: m1 },
    { atMs: toMs, kind: 'draft', month: current },
  ];
  steps.sort((a, b) => a.atMs - b.atMs);

  return {
    installations,
    beneficiaries,
    scenario: {
      seed,
      intervalSeconds: options.intervalSeconds,
      inverters: installations.map((inst) => ({
        serial: inst.serial,
        province: inst.provinceName,
        latitude: inst.latitude,
        longitude: inst.longitude,
        dcKwp: inst.dcKwp,
        ratedAcW: inst.ratedAcW,
        initialCounterWh: inst.initialCounterWh,
      })),
      faults,
    },
    history,
    current,
    backfill: { fromMs, toMs, intervalSeconds: options.intervalSeconds },
    steps,
    alertChecks,
    logins: [installations[1]!.shares[0]!.beneficiary, installations[3]!.shares[0]!.beneficiary],
  };
}

/** Faults that show whatever the hour: an inverter's own fault state, not a want of sun. */
export const SUN_INDEPENDENT_FAULTS = ['ground_fault', 'arc_fault'] as const;

/**
 * The live fleet: the history's inverters, their counters continuing from storage, with two faults
 * that do not wait for daylight (a ground fault, an arc fault) on the last two installations from
 * the moment it starts, for a year: the first alerts evaluation, at any hour, has income at risk to
 * rank. The history's faults are in the past and stay there.
 */
export function liveScenario(scenario: Scenario, nowMs: number): Scenario {
  const serials = scenario.inverters.slice(-SUN_INDEPENDENT_FAULTS.length).map((i) => i.serial);
  return {
    seed: scenario.seed,
    inverters: scenario.inverters,
    faults: serials.map((serial, k) => ({
      serial,
      kind: SUN_INDEPENDENT_FAULTS[k]!,
      from: new Date(nowMs - 3_600_000).toISOString(),
      until: new Date(nowMs + 365 * 86_400_000).toISOString(),
    })),
  };
}
