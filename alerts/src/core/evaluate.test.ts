// The rules as pure functions: inputs in, decisions out, no servers.
import { describe, expect, it } from 'vitest';
import { evaluate } from './evaluate';
import { dueReminders } from './lifecycle';
import { declineShape } from './performance';
import type { ActiveAlert, DayEnergy, EvaluationInputs, InstallationInfo, LatestReading, RuleConfig } from './types';

const config: RuleConfig = {
  offlineAfterMinutes: 30,
  sunUpElevationDeg: 10,
  commsOnlyEnergyPercent: 25,
  areaCellDeg: 0.5,
  areaMinInstallations: 10,
  areaMinPercent: 50,
  faultEvents: ['GROUND_FAULT'],
  underperformingPercent: 10,
  underperformingClearSkyPercent: 90,
  windowDays: 7,
  minDays: 3,
  minPeers: 3,
  peerTiltToleranceDeg: 10,
  clearSkyPerformanceRatio: 0.8,
  soilingMinSlopePercentPerDay: 0.2,
  majorLossPercent: 30,
};
// Yazd; 2026-06-21 08:30 UTC is noon in Tehran, 20:30 UTC is midnight.
const NOON = Date.parse('2026-06-21T08:30:00Z');
const NIGHT = Date.parse('2026-06-20T20:30:00Z');
const site = (n: number, over: Partial<InstallationInfo> = {}): InstallationInfo => ({
  id: n,
  code: `I${n}`,
  provinceId: 1,
  provinceCode: 'yazd',
  latitude: 31.9 + (over.latitude ?? 0),
  longitude: 54.37,
  dcKwp: 5,
  tiltDeg: 30,
  rate: { rialPerKwh: 30_000, percent: 100 },
  inverters: [{ id: n, serial: `S${n}`, ratedAcW: 5000 }],
  ...over,
});
const reading = (atMs: number, over: Partial<LatestReading> = {}): LatestReading => ({
  atMs,
  counterWh: 1_000_000,
  state: 'MPPT',
  events: [],
  ...over,
});
const days = (values: number[]): DayEnergy[] =>
  values.map((wh, k) => ({ date: `2026-06-${String(10 + k).padStart(2, '0')}`, wh }));

function inputs(over: Partial<EvaluationInputs> & { nowMs: number }): EvaluationInputs {
  return {
    installations: [],
    latest: new Map(),
    lastBefore: new Map(),
    resumed: new Map(),
    daily: new Map(),
    active: [],
    config,
    ...over,
  };
}
const fleet = (n: number) => Array.from({ length: n }, (_, k) => site(k + 1));
const allReporting = (sites: InstallationInfo[], atMs: number, except: number[] = []) =>
  new Map(sites.filter((s) => !except.includes(s.id)).map((s) => [`S${s.id}`, reading(atMs)]));

describe('offline', () => {
  const sites = fleet(5);
  it('opens for an inverter silent at noon, with its last reading and the loss priced at its tariff', () => {
    const { findings } = evaluate(
      inputs({
        nowMs: NOON,
        installations: sites,
        latest: allReporting(sites, NOON - 60_000, [3]),
        lastBefore: new Map([['S3', { atMs: NOON - 3_600_000, counterWh: 900_000 }]]),
      }),
    );
    expect(findings).toHaveLength(1);
    const [f] = findings;
    expect(f).toMatchObject({ key: 'OFFLINE:inverter:3', rule: 'OFFLINE', cause: 'outage', installationId: 3 });
    expect(f!.detail).toMatchObject({ lastReadingAt: NOON - 3_600_000, lastCounterWh: 900_000 });
    // A clear June day in Yazd: 5 kWp × ~7 kWh/kWp × 30,000 Rial/kWh, about a million Rials a day.
    expect(f!.lostKwhPerDay).toBeGreaterThan(25);
    expect(f!.lostKwhPerDay).toBeLessThan(50);
    expect(f!.lostRialsPerDay).toBe(BigInt(Math.round(f!.lostKwhPerDay * 30_000)));
  });

  it('never opens at night', () => {
    const { findings } = evaluate(
      inputs({ nowMs: NIGHT, installations: sites, latest: allReporting(sites, NIGHT, [3]) }),
    );
    expect(findings).toEqual([]);
  });

  it('re-labels a gap as communications when the counter advanced as expected across it', () => {
    const active: ActiveAlert[] = [
      {
        id: 7n,
        key: 'OFFLINE:inverter:3',
        rule: 'OFFLINE',
        cause: 'outage',
        detail: { serial: 'S3', lastReadingAt: NOON - 2 * 3_600_000, lastCounterWh: 1_000_000 },
      },
    ];
    const back = (counterWh: number) =>
      evaluate(
        inputs({
          nowMs: NOON,
          installations: sites,
          latest: allReporting(sites, NOON - 60_000),
          resumed: new Map([['S3', { atMs: NOON - 10 * 60_000, counterWh }]]),
          active,
        }),
      ).clearances;
    // ~2 h at noon on 5 kWp: several kWh produced → it was only communications.
    expect(back(1_008_000)[0]).toMatchObject({ id: 7n, cause: 'communications' });
    // Counter flat → a real outage keeps its label.
    expect(back(1_000_010)[0]).toMatchObject({ id: 7n, cause: 'outage' });
  });
});

describe('area outage', () => {
  it('gives one area alert for 40 installations silent together, not 40 device alerts', () => {
    const sites = [...fleet(40), ...Array.from({ length: 5 }, (_, k) => site(100 + k, { latitude: 3 }))];
    const { findings } = evaluate(
      inputs({
        nowMs: NOON,
        installations: sites,
        latest: allReporting(
          sites,
          NOON - 60_000,
          fleet(40).map((s) => s.id),
        ),
      }),
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ rule: 'AREA_OUTAGE', affectedInstallations: 40, installationId: null });
    expect(findings[0]!.lostRialsPerDay).toBeGreaterThan(30_000_000n);
  });
});

describe('fault', () => {
  const sites = fleet(3);
  it('opens on state FAULT or a fault event, not on THROTTLED, and closes when the fault is gone', () => {
    const latest = allReporting(sites, NOON);
    latest.set('S1', reading(NOON, { state: 'FAULT', events: ['GROUND_FAULT'] }));
    latest.set('S2', reading(NOON, { state: 'THROTTLED' }));
    const { findings } = evaluate(inputs({ nowMs: NOON, installations: sites, latest }));
    expect(findings.map((f) => [f.key, f.cause])).toEqual([['FAULT:inverter:1', 'ground_fault']]);
    const active: ActiveAlert[] = [
      { id: 1n, key: 'FAULT:inverter:1', rule: 'FAULT', cause: 'ground_fault', detail: {} },
    ];
    const later = evaluate(inputs({ nowMs: NOON, installations: sites, latest: allReporting(sites, NOON), active }));
    expect(later.findings).toEqual([]);
    expect(later.clearances.map((c) => c.id)).toEqual([1n]);
  });
});

describe('underperforming', () => {
  const sites = fleet(6);
  const healthy = days([30_000, 30_500, 29_800, 30_200, 30_100, 29_900, 30_300]);
  it('flags an installation well below its peers and its clear-sky yield; a gradual decline is soiling', () => {
    const daily = new Map(sites.map((s) => [s.id, healthy]));
    daily.set(6, days([29_000, 27_500, 26_000, 24_500, 23_000, 21_500, 20_000]));
    const { findings } = evaluate(
      inputs({
        nowMs: Date.parse('2026-06-17T08:30:00Z'),
        installations: sites,
        latest: allReporting(sites, NOON),
        daily,
      }),
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ key: 'UNDERPERFORMING:installation:6', cause: 'soiling' });
    // (30.1 − 24.5) kWh a day ≈ 5.6 kWh × 30,000 Rial.
    expect(Number(findings[0]!.lostRialsPerDay)).toBeGreaterThan(120_000);
    expect(Number(findings[0]!.lostRialsPerDay)).toBeLessThan(220_000);
  });
  it('a sudden drop is an equipment loss, and nothing fires with too few peers', () => {
    expect(
      declineShape(
        [1, 1, 0.99, 0.6, 0.6, 0.6].map((ratio, k) => ({ date: `d${k}`, ratio })),
        0.2,
      ),
    ).toBe('equipment');
    expect(
      declineShape(
        [1, 0.95, 0.9, 0.85, 0.8].map((ratio, k) => ({ date: `d${k}`, ratio })),
        0.2,
      ),
    ).toBe('soiling');
    const two = fleet(2);
    const daily = new Map([
      [1, healthy],
      [2, days([10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000])],
    ]);
    const { findings } = evaluate(inputs({ nowMs: NOON, installations: two, latest: allReporting(two, NOON), daily }));
    expect(findings).toEqual([]);
  });
});

describe('reminders', () => {
  const policy = { intervalMinutes: 1440, maxReminders: 3 };
  const at = (h: number) => new Date(NOON + h * 3_600_000);
  it('repeat until acknowledged, not while muted, at most N times', () => {
    const base = { id: 1n, state: 'OPEN', mutedUntil: null, remindersSent: 0, nextReminderAt: at(0) };
    expect(dueReminders([base], NOON, policy)).toEqual([{ id: 1n, sequence: 1, nextReminderAt: at(24) }]);
    expect(dueReminders([{ ...base, state: 'ACKNOWLEDGED' }], NOON, policy)).toEqual([]);
    expect(dueReminders([{ ...base, mutedUntil: at(2) }], NOON, policy)).toEqual([]);
    expect(dueReminders([{ ...base, remindersSent: 2 }], NOON, policy)).toEqual([
      { id: 1n, sequence: 3, nextReminderAt: null },
    ]);
    expect(dueReminders([{ ...base, remindersSent: 3 }], NOON, policy)).toEqual([]);
  });
});
