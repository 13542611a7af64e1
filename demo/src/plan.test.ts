import { describe, expect, it } from 'vitest';
import { checkMobile, checkNationalCode, checkSheba } from '../../lib/identifiers/validate';
import { jsonText } from '../../lib/json';
import { tehranHour } from '../../lib/program/tehran-time';
import { monthBounds } from '../../lib/program/solar-hijri';
import { parseScenario } from '../../simulators';
import { fictionalNationalCode, fictionalSheba } from './identities';
import { buildDemoPlan, liveScenario, SUN_INDEPENDENT_FAULTS, TARGET_GROUPS } from './plan';

const NOW = Date.parse('2026-11-25T12:00:00Z'); // 4 Azar 1405
const plan = buildDemoPlan({ installations: 200, nowMs: NOW, closeDay: 5, intervalSeconds: 600 });

describe('fictional identifiers', () => {
  it('pass the platform checks, yet sit in a range no one was issued (national code office 000, bank code 000)', () => {
    for (const n of [0, 1, 42, 899_999]) {
      const code = fictionalNationalCode(n);
      expect(checkNationalCode(code)).toEqual({ ok: true, value: code });
      expect(code.slice(0, 3)).toBe('000');
      expect(code.slice(3, 9)).not.toBe('000000');
      const sheba = fictionalSheba(n);
      expect(checkSheba(sheba)).toEqual({ ok: true, value: sheba });
      expect(sheba.slice(4, 7)).toBe('000');
    }
    // 000100007: 1×7 + 7×2 = 21, 21 mod 11 = 10, check digit 11 − 10 = 1.
    expect(fictionalNationalCode(7)).toBe('0001000071');
    expect(() => fictionalNationalCode(900_000)).toThrow(RangeError);
  });

  it('a wrong check digit, or any changed digit of a Sheba, is refused', () => {
    const code = fictionalNationalCode(123);
    for (let d = 1; d < 10; d++)
      expect(checkNationalCode(code.slice(0, 9) + String((Number(code[9]) + d) % 10)).ok).toBe(false);
    const sheba = fictionalSheba(123);
    for (let i = 2; i < 26; i++) {
      const wrong = sheba.slice(0, i) + String((Number(sheba[i]) + 1) % 10) + sheba.slice(i + 1);
      expect(checkSheba(wrong).ok).toBe(false);
    }
  });
});

describe('the demo plan', () => {
  it('is the same for the same size, seed and instant', () => {
    const again = buildDemoPlan({ installations: 200, nowMs: NOW, closeDay: 5, intervalSeconds: 600 });
    expect(jsonText(again)).toBe(jsonText(plan));
  });

  it('mixes 5 kWp family roofs with shared plants of 15–100 kWp and 3–20 people, across the provinces', () => {
    const roofs = plan.installations.filter((i) => i.kind === 'roof');
    const shared = plan.installations.filter((i) => i.kind === 'shared');
    expect(roofs.length).toBe(150);
    expect(shared.length).toBe(50);
    expect(roofs.every((i) => i.dcKwp === 5 && i.shares.length === 1)).toBe(true);
    for (const plant of shared) {
      expect(plant.dcKwp).toBeGreaterThanOrEqual(15);
      expect(plant.dcKwp).toBeLessThanOrEqual(100);
      const people = new Set(plant.shares.map((s) => s.beneficiary)).size;
      expect(people).toBeGreaterThanOrEqual(3);
      expect(people).toBeLessThanOrEqual(21); // 20 seats, one of them changing hands
    }
    expect(new Set(plan.installations.map((i) => i.provinceCode)).size).toBe(31);
  });

  it('has people of every target group with valid, fictional identifiers; a few without a Sheba', () => {
    expect(new Set(plan.beneficiaries.map((b) => b.targetGroup))).toEqual(new Set(TARGET_GROUPS));
    expect(new Set(plan.beneficiaries.map((b) => b.nationalCode)).size).toBe(plan.beneficiaries.length);
    for (const b of plan.beneficiaries) {
      expect(checkNationalCode(b.nationalCode).ok && b.nationalCode.startsWith('000')).toBe(true);
      expect(checkMobile(b.mobile).ok).toBe(true);
      expect(b.fullName).toMatch(/^[\u0600-\u06ff]+ [\u0600-\u06ff]+$/);
      expect(b.pin).toMatch(/^\d{6}$/);
      if (b.sheba) expect(checkSheba(b.sheba).ok && b.sheba.slice(4, 7) === '000').toBe(true);
    }
    const withoutSheba = plan.beneficiaries.filter((b) => b.sheba === null).length;
    expect(withoutSheba).toBeGreaterThan(0);
    expect(withoutSheba).toBeLessThan(plan.beneficiaries.length / 20);
    expect(new Set(plan.beneficiaries.map((b) => b.pin)).size).toBeLessThanOrEqual(6);
  });

  it('has shares starting and ending mid-month, the published tariffs, step-downs due and loans', () => {
    const shares = plan.installations.flatMap((i) => i.shares);
    const midMonth = (date: string | null) => date !== null && !date.endsWith('-01') && date > '2026-08-01';
    expect(shares.some((s) => midMonth(s.validFrom))).toBe(true);
    expect(shares.some((s) => midMonth(s.validUntil))).toBe(true);
    const support = plan.installations.filter((i) => i.contract.kind === 'SUPPORT');
    for (const i of support) {
      const rates = i.contract.tariffs.map((t) => t.rialPerKwh);
      expect(rates[rates.length - 1]).toBe(38_500);
      if (i.contract.startDate < '2025-03-21')
        expect(i.contract.tariffs[0]).toMatchObject({ rialPerKwh: 30_000, until: '2025-03-21' });
    }
    const ordinary = plan.installations.filter((i) => i.contract.kind === 'ORDINARY');
    expect(ordinary.length).toBeGreaterThan(0);
    // Year 8 (the first step-down) starts on the 7th anniversary: some within the history.
    const historyStart = new Date(monthBounds(plan.history[0]!).startMs).toISOString().slice(0, 10);
    const eighth = ordinary.map(
      (i) => `${Number(i.contract.startDate.slice(0, 4)) + 7}${i.contract.startDate.slice(4)}`,
    );
    expect(eighth.some((d) => d > historyStart && d < '2026-11-25')).toBe(true);
    expect(plan.installations.filter((i) => i.loan).length).toBeGreaterThan(50);
  });

  it('replays three past months with the faults, closes each on the close day, pays the oldest and drafts the running month', () => {
    expect(plan.history).toEqual(['1405-06', '1405-07', '1405-08']);
    expect(plan.current).toBe('1405-09');
    expect(plan.steps.map((s) => `${s.kind} ${s.month}`)).toEqual([
      'close 1405-06',
      'pay 1405-06',
      'close 1405-07',
      'close 1405-08',
      'draft 1405-09',
    ]);
    // Azar 5 has not come yet on Azar 4: 1405-08 closes at the end of the replay.
    expect(plan.steps[3]!.atMs).toBe(plan.backfill.toMs);
    expect(plan.backfill.fromMs).toBeLessThan(monthBounds('1405-06').startMs);
    const scenario = parseScenario(JSON.stringify(plan.scenario));
    expect(new Set(scenario.faults!.map((f) => f.kind))).toEqual(
      new Set(['offline', 'ground_fault', 'counter_reset', 'heavy_soiling']),
    );
    // The late flush: offline across the end of 1405-06 until after it was closed.
    const late = scenario.faults!.find((f) => f.kind === 'offline')!;
    expect(Date.parse(late.from)).toBeLessThan(monthBounds('1405-06').endMs);
    expect(Date.parse(late.until!)).toBeGreaterThan(plan.steps[0]!.atMs);
  });

  it('refuses a program too small to show every case', () => {
    expect(() => buildDemoPlan({ installations: 3, nowMs: NOW, closeDay: 5, intervalSeconds: 600 })).toThrow(
      /at least 4/,
    );
  });
});

describe('the live fleet', () => {
  it('carries faults that show at any hour, active from the start for a year, on inverters of the plan', () => {
    const live = liveScenario(plan.scenario, NOW);
    expect(live.inverters).toEqual(plan.scenario.inverters);
    const serials = new Set(plan.scenario.inverters.map((i) => i.serial));
    expect(live.faults!.map((f) => f.kind).sort()).toEqual([...SUN_INDEPENDENT_FAULTS].sort());
    for (const f of live.faults!) {
      expect(serials.has(f.serial)).toBe(true);
      // Active now and at every hour of the next year, night included.
      expect(Date.parse(f.from)).toBeLessThan(NOW);
      expect(Date.parse(f.until!)).toBeGreaterThanOrEqual(NOW + 365 * 86_400_000);
    }
    expect(new Set(live.faults!.map((f) => f.serial)).size).toBe(live.faults!.length);
    expect(() => parseScenario(JSON.stringify(live), 'live fleet')).not.toThrow();
  });
});

describe("the history's alerts", () => {
  it('are evaluated by day, every two hours, across the incidents an evaluation can see and a day after', () => {
    const checks = plan.alertChecks;
    expect(checks).toEqual([...checks].sort((a, b) => a - b));
    expect(new Set(checks.map(tehranHour))).toEqual(new Set([8, 10, 12, 14, 16]));
    for (const kind of ['offline', 'ground_fault']) {
      const fault = plan.scenario.faults!.find((f) => f.kind === kind)!;
      const [from, until] = [Date.parse(fault.from), Date.parse(fault.until!)];
      // Within the first day of it, during it, and after it ended (when the alert closes).
      expect(checks.some((t) => t > from && t < from + 86_400_000)).toBe(true);
      expect(checks.some((t) => t > from && t < until)).toBe(true);
      expect(checks.some((t) => t > until)).toBe(true);
    }
    for (const t of checks) {
      expect(t).toBeGreaterThan(plan.backfill.fromMs);
      expect(t).toBeLessThan(plan.backfill.toMs);
    }
    // A few dozen evaluations, not the whole history's (the seed stays quick).
    expect(checks.length).toBeLessThan(100);
  });
});
