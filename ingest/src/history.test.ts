import { describe, expect, it } from 'vitest';
import { CounterGuard } from './counter-guard';
import { fieldsKey, KnownTimeline, type KnownReading, RecentReadings } from './history';
import {
  type CounterCheck,
  judgeAgainstHistory,
  processMessage,
  type RegisteredInverter,
  type ValidationLimits,
} from './process-message';

const H = 3_600_000;
const NOW = Date.parse('2026-11-25T12:00:00Z');
const T0 = NOW - 48 * H;
const inverter: RegisteredInverter = { installation: 'YZD-001', province: 'yazd', ratedAcW: 5000, replacedAtMs: null };
const limits: ValidationLimits = {
  maxPayloadBytes: 1_000_000,
  maxReadingsPerMessage: 5000,
  maxClockAheadMs: 300_000,
  powerTolerancePercent: 130,
  retentionMs: 400 * 86_400_000,
};
const reading = (ts: number, wh: number, power = 2000) => ({
  ts,
  energy_wh_total: wh,
  ac_power_w: power,
  state: 'MPPT',
});
const stored = (ts: number, wh: number, power = 2000): KnownReading => ({
  tMs: ts,
  wh,
  key: fieldsKey({ ac_power_w: power, energy_wh_total: wh, state: 'MPPT' }),
});

function judge(guard: CounterGuard, body: unknown, history: KnownReading[]) {
  const counters: CounterCheck = {
    needsHistory: (s, t) => guard.needsHistory(s, t),
    admit: (d, s, t, wh) => guard.admit(s, d.ratedAcW, d.replacedAtMs, t, wh),
    seed: (s, t, wh) => guard.seed(s, t, wh),
  };
  const topic = 'solar/v1/INV1/telemetry';
  const first = processMessage(topic, Buffer.from(JSON.stringify(body)), NOW, () => inverter, limits, counters);
  return judgeAgainstHistory(first, topic, new KnownTimeline(history), counters);
}
/** A guard that has accepted a live reading at `tMs`. */
function guardAt(tMs: number, wh: number) {
  const g = new CounterGuard({ lifetimeYears: 40 });
  g.admit('INV1', 5000, null, tMs, wh);
  return g;
}

describe("a device's past is immutable once accepted", () => {
  it('rejects another value at an instant already stored, keeping both values as evidence; the same values are a harmless duplicate', () => {
    const g = guardAt(NOW - H, 3_000_000);
    const history = [stored(T0, 2_990_000), stored(NOW - H, 3_000_000)];
    const result = judge(g, [reading(T0, 2_000), reading(T0, 2_999_999), reading(T0, 2_990_000)], history);
    expect(result.lines).toEqual([]);
    expect(result.duplicates).toBe(1);
    expect(result.rejections.map((r) => r.reason)).toEqual(['conflicting_reading', 'conflicting_reading']);
    expect(result.rejections[0]!.detail).toMatch(
      new RegExp(
        /^reading \[0\]: ts .* already has a stored reading \(.*energy_wh_total=2990000.*\); /.source +
          /this one differs \(.*energy_wh_total=2000.*\): the stored one stays$/.source,
      ),
    );
    expect(result.rejections[0]!.payload).toContain('"energy_wh_total":2000');
  });

  it('a conflict is any other value at that instant, not only the counter', () => {
    const g = guardAt(NOW - H, 3_000_000);
    const result = judge(g, reading(T0, 2_990_000, 2500), [stored(T0, 2_990_000, 2000), stored(NOW - H, 3_000_000)]);
    expect(result.rejections.map((r) => r.reason)).toEqual(['conflicting_reading']);
  });

  it('fills a gap with readings that fit between the stored neighbours, and each filled reading bounds the next', () => {
    const g = guardAt(NOW - H, 1_020_000);
    const history = [stored(T0, 1_000_000), stored(T0 + 10 * H, 1_020_000)];
    const result = judge(
      g,
      [reading(T0 + H, 1_003_000), reading(T0 + 2 * H, 1_006_000), reading(T0 + 3 * H, 1_005_000)],
      history,
    );
    expect(result.readings).toBe(2);
    expect(result.rejections.map((r) => [r.reason, r.detail.slice(0, 14)])).toEqual([
      ['implausible_value', 'reading [2]: e'],
    ]);
    expect(result.rejections[0]!.detail).toMatch(/below the stored 1006000 Wh/);
  });

  it("takes a gap fill within the contract's noise of its neighbours (each reading ±100 Wh, so two differ by up to 200)", () => {
    const g = guardAt(NOW - H, 1_020_000);
    const history = [stored(T0, 1_000_000), stored(T0 + 10 * H, 1_020_000)];
    expect(judge(g, reading(T0 + H, 999_850), history).readings).toBe(1);
    expect(judge(g, reading(T0 + 2 * H, 999_799), history).rejections[0]!.detail).toMatch(
      /below the stored 1000000 Wh/,
    );
  });

  it('refuses a gap fill beyond what the rating allows from either neighbour, or above the later one', () => {
    const g = guardAt(NOW - H, 1_020_000);
    const history = [stored(T0, 1_000_000), stored(T0 + 10 * H, 1_020_000)];
    // 4.5 kWh/h is under a 5 kW rating, but 15 h of it cannot fit under the later stored counter.
    const result = judge(g, [reading(T0 + H, 1_007_000), reading(T0 + 5 * H, 1_030_000)], history);
    expect(result.readings).toBe(0);
    expect(result.rejections.map((r) => r.detail)).toEqual([
      expect.stringMatching(/7000 Wh above the stored 1000000 Wh .* more than the rating allows/),
      expect.stringMatching(/above the stored 1020000 Wh/),
    ]);
  });

  it('allows the noise once over a stretch of late readings, not at every step (as the door does): they cannot climb past the rating', () => {
    const M = 60_000;
    const g = guardAt(NOW - H, 1_050_000);
    const history = [stored(T0, 1_000_000), stored(T0 + 10 * H, 1_050_000)];
    // 250 Wh a minute: each step is within the rating (92 Wh a minute at 5 kW and its margin) plus
    // the 200 Wh of noise from the one before, but 500 Wh in 2 minutes is more than the rating allows
    // from the stored reading they started from.
    const rising = judge(
      g,
      [1, 2, 3].map((m) => reading(T0 + m * M, 1_000_000 + 250 * m)),
      history,
    );
    expect(rising.readings).toBe(1);
    expect(rising.rejections.map((r) => r.detail)).toEqual([
      expect.stringMatching(/^reading \[1\]: .*500 Wh above the stored 1000000 Wh at .*, more than the rating allows/),
      expect.stringMatching(/^reading \[2\]: .*750 Wh above the stored 1000000 Wh at .*, more than the rating allows/),
    ]);
    // The same from the later side: readings sent newest first cannot fall away from it in noise-sized steps.
    const falling = judge(
      g,
      [1, 2, 3].map((m) => reading(T0 + 10 * H - m * M, 1_050_000 - 250 * m)),
      history,
    );
    expect(falling.readings).toBe(1);
    expect(falling.rejections.map((r) => r.detail)).toEqual([
      expect.stringMatching(/500 Wh below the stored 1050000 Wh at .*, more than the rating allows/),
      expect.stringMatching(/750 Wh below the stored 1050000 Wh at .*, more than the rating allows/),
    ]);
  });

  it('a late reading after a jump the door took as a new trend is judged by that trend, not by the readings before the jump', () => {
    const g = guardAt(NOW - H, 2_005_000);
    const history = [stored(T0, 1_000_000), stored(T0 + 2 * H, 2_000_000), stored(T0 + 3 * H, 2_005_000)];
    expect(judge(g, reading(T0 + 2.5 * H, 2_002_500), history).readings).toBe(1);
  });

  it('keeps its folds true through inserts in any order (the same bounds as a timeline built afresh)', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 48_271) % 2_147_483_647;
      return seed / 2_147_483_647;
    };
    // Distinct instants (a device has one reading per instant), in random order, counters at random.
    const minutes = Array.from({ length: 300 }, (_, m) => m).sort(() => random() - 0.5);
    const point = () => stored(T0 + minutes.pop()! * 60_000, 1_000_000 + Math.floor(random() * 4000));
    const first = Array.from({ length: 20 }, point);
    const timeline = new KnownTimeline(first);
    const all = [...first];
    for (let n = 0; n < 200; n += 1) {
      const t = T0 + Math.floor(random() * 300) * 60_000 + 30_000;
      const replacedAtMs = n % 50 < 25 ? null : T0 + 150 * 60_000;
      expect(timeline.binding(t, 5000, replacedAtMs)).toEqual(new KnownTimeline(all).binding(t, 5000, replacedAtMs));
      const r = point();
      timeline.insert(r);
      all.push(r);
    }
  });

  it('a reset between the neighbours: a late reading fits if it belongs to either side', () => {
    const g = guardAt(NOW - H, 2_000);
    const history = [stored(T0, 1_000_000), stored(T0 + 10 * H, 2_000)];
    const result = judge(
      g,
      [reading(T0 + H, 1_004_000), reading(T0 + 9 * H, 500), reading(T0 + 5 * H, 900_000)],
      history,
    );
    expect(result.readings).toBe(2);
    expect(result.rejections).toHaveLength(1);
  });

  it("judges a device's first reading after a restart from its newest stored one (a jump is refused, a normal rise kept)", () => {
    const fresh = () => new CounterGuard({ lifetimeYears: 40 });
    const history = [stored(NOW - 2 * H, 1_000_000)];
    expect(judge(fresh(), reading(NOW - 60_000, 9_000_000), history).rejections[0]!.detail).toMatch(
      /rose 8000000 Wh in 1\.983 h since the last accepted reading/,
    );
    const g = fresh();
    expect(judge(g, reading(NOW - 60_000, 1_005_000), history).readings).toBe(1);
    expect(g.needsHistory('INV1', NOW)).toBe(false);
    // With no stored history at all, the first reading starts the device's record.
    expect(judge(fresh(), reading(NOW, 5), []).readings).toBe(1);
  });

  it('remembers what was journaled until the journal has shipped it', () => {
    const recent = new RecentReadings(3);
    recent.add('INV1', [stored(1, 1), stored(2, 2)], 1000);
    recent.add('INV1', [stored(3, 3), stored(4, 4)], 2000);
    expect(recent.of('INV1').map((r) => r.tMs)).toEqual([2, 3, 4]); // bounded per serial
    recent.forgetShipped(1500);
    expect(recent.of('INV1').map((r) => r.tMs)).toEqual([3, 4]);
    recent.forgetShipped(2001);
    expect(recent.size).toBe(0);
  });
});
