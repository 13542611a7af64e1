import { describe, expect, it } from 'vitest';
import { maxCounterRiseWh } from '../../lib/program/counter-limits';
import { CounterGuard } from './counter-guard';
import { processMessage, type RegisteredInverter } from './process-message';

const H = 3_600_000;
const T0 = Date.parse('2026-11-25T06:00:00Z');
const guard = () => new CounterGuard({ lifetimeYears: 40 });

describe('CounterGuard: impossible counters rejected at the door', () => {
  it('rejects a jump beyond rated power × elapsed time, naming the last accepted reading', () => {
    const g = guard();
    expect(g.admit('INV1', 5000, null, T0, 0)).toBeNull();
    const why = g.admit('INV1', 5000, null, T0 + 60_000, 9_999_999);
    expect(why).toMatch(
      /rose 9999999 Wh in 0\.017 h since the last accepted reading \(2026-11-25T06:00:00\.000Z, 0 Wh\)/,
    );
    // The next normal reading is judged against the last accepted one, not the spike.
    expect(g.admit('INV1', 5000, null, T0 + 2 * H, 9000)).toBeNull();
  });

  it("holds a counter to the program's limits, the ones billing's counter model holds an epoch to", () => {
    // An hour at 5 kW: the rating plus 10 %, plus 200 Wh of noise (the door allowed 30 % before).
    expect(maxCounterRiseWh(5000, H)).toBe(5700);
    const g = guard();
    expect(g.admit('INV1', 5000, null, T0, 1_000_000)).toBeNull();
    expect(g.admit('INV1', 5000, null, T0 + H, 1_005_701)).toMatch(
      /rose 5701 Wh in 1\.000 h .*: more than 5000 W can produce \(110 % of it and 200 Wh of noise\)/,
    );
    expect(g.admit('INV1', 5000, null, T0 + H, 1_005_700)).toBeNull();
  });

  it('allows the noise once over a stretch, not at every step: a device reporting every second cannot beat its rating', () => {
    // 10.5 Wh a second on 5 kW (37.8 kW): each step is within 1.5 Wh of rating + 200 Wh of noise.
    const g = guard();
    let refused = 0;
    for (let s = 0; s <= 60; s++) if (g.admit('FAST', 5000, null, T0 + s * 1000, 1_000_000 + s * 10.5)) refused += 1;
    expect(refused).toBeGreaterThan(30);
    // What any run of accepted readings gained over the rating is one noise allowance at most.
    const h = guard();
    const accepted: { tMs: number; wh: number }[] = [];
    for (let s = 0; s <= 600; s++) {
      const r = { tMs: T0 + s * 1000, wh: 1_000_000 + s * 10.5 };
      if (!h.admit('FAST', 5000, null, r.tMs, r.wh)) accepted.push(r);
    }
    const first = accepted[0]!;
    const last = accepted[accepted.length - 1]!;
    expect(last.wh - first.wh).toBeLessThanOrEqual(maxCounterRiseWh(5000, last.tMs - first.tMs));
    // A real inverter at its rating with readings ±100 Wh off (a 0.1 kWh register) is never refused.
    const real = guard();
    for (let s = 0; s <= 3600; s += 5) {
      const jitter = (s / 5) % 2 === 0 ? 100 : -100;
      expect(real.admit('REAL', 5000, null, T0 + s * 1000, 1_000_000 + (s * 5000) / 3600 + jitter)).toBeNull();
    }
  });

  it('rejects a counter beyond a sane lifetime for the rating, even as the first reading', () => {
    expect(guard().admit('INV1', 5000, null, T0, 9_999_999_999_999)).toMatch(/in 40 years at full power/);
  });

  it('leaves late and out-of-order readings to the stored history, and keeps resets (a drop is not a jump)', () => {
    const g = guard();
    expect(g.needsHistory('INV1', T0)).toBe(true); // nothing known yet: the first is judged against the history
    expect(g.admit('INV1', 5000, null, T0 + 10 * H, 50_000)).toBeNull();
    expect(g.needsHistory('INV1', T0)).toBe(true); // a flushed buffer, older
    expect(g.needsHistory('INV1', T0 + 10 * H)).toBe(true); // the same instant again
    expect(g.needsHistory('INV1', T0 + 11 * H)).toBe(false);
    expect(g.admit('INV1', 5000, null, T0 + 11 * H, 20)).toBeNull(); // reset
    expect(g.admit('INV1', 5000, null, T0 + 12 * H, 4_000)).toBeNull();
  });

  it("accepts a replaced inverter's higher counter after an operator recorded the replacement", () => {
    const g = guard();
    expect(g.admit('INV1', 5000, null, T0, 1_000_000)).toBeNull();
    expect(g.admit('INV1', 5000, T0 + H, T0 + 2 * H, 40_000_000)).toBeNull();
  });

  it('takes a few jumping readings that agree with each other as a new counter, not a fault forever', () => {
    const g = guard();
    expect(g.admit('INV1', 5000, null, T0, 1_000_000)).toBeNull();
    expect(g.admit('INV1', 5000, null, T0 + H, 40_000_000)).not.toBeNull();
    expect(g.admit('INV1', 5000, null, T0 + 2 * H, 40_001_000)).not.toBeNull();
    expect(g.admit('INV1', 5000, null, T0 + 3 * H, 40_002_000)).toBeNull();
    expect(g.admit('INV1', 5000, null, T0 + 4 * H, 40_003_000)).toBeNull();
  });

  it('forgets serials no longer registered', () => {
    const g = guard();
    g.admit('A', 5000, null, T0, 1);
    g.admit('B', 5000, null, T0, 1);
    g.retain((s) => s === 'A');
    expect(g.size).toBe(1);
  });

  it('gives processMessage the reason as implausible_value while keeping the valid readings of the same flush', () => {
    const g = guard();
    const device: RegisteredInverter = {
      installation: 'YZD-001',
      province: 'yazd',
      ratedAcW: 5000,
      replacedAtMs: null,
    };
    const limits = {
      maxPayloadBytes: 100_000,
      maxReadingsPerMessage: 100,
      maxClockAheadMs: 300_000,
      powerTolerancePercent: 130,
      retentionMs: 400 * 86_400_000,
    };
    const payload = Buffer.from(
      JSON.stringify([
        { ts: T0, energy_wh_total: 0, ac_power_w: 0, state: 'MPPT' },
        { ts: T0 + 60_000, energy_wh_total: 9_999_999_999_999, ac_power_w: 100, state: 'MPPT' },
        { ts: T0 + 120_000, energy_wh_total: 80, ac_power_w: 2000, state: 'MPPT' },
      ]),
    );
    const result = processMessage('solar/v1/INV1/telemetry', payload, T0 + 180_000, () => device, limits, {
      needsHistory: () => false,
      admit: (d, s, t, wh) => g.admit(s, d.ratedAcW, d.replacedAtMs, t, wh),
      seed: () => undefined,
    });
    expect(result.readings).toBe(2);
    expect(result.rejections.map((r) => [r.reason, r.detail.slice(0, 40)])).toEqual([
      ['implausible_value', 'reading [1]: energy_wh_total 99999999999'],
    ]);
  });
});
