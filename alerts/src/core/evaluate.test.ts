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
  areaKeepPercent: 10,
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
  flatSinceMs: atMs,
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
    gapHistory: { device: { outages: 0, communications: 0 }, area: { outages: 0, communications: 0 } },
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
    // A clear June day in Yazd: 5 kWp × ~7 kWh/kWp × 30,000 Rial/kWh, about a million Rials a day if
    // it is an outage; with no history of how silences end, priced at half of that until data returns.
    const outage = Number(f!.detail.outageRialsPerDay);
    expect(outage / 30_000).toBeGreaterThan(25);
    expect(outage / 30_000).toBeLessThan(50);
    expect(f!.detail).toMatchObject({ loss: 'loss unknown until data returns', outageProbability: 0.5 });
    expect(f!.lostKwhPerDay).toBeCloseTo(outage / 30_000 / 2, 1);
    expect(f!.lostRialsPerDay).toBe(BigInt(Math.round(f!.lostKwhPerDay * 30_000)));
    expect(f!.summary).toContain('unknown until data returns');
  });

  it('prices a silence by how often silences turned out to be communications: below a fault that is known', () => {
    const latest = allReporting(sites, NOON - 60_000, [3]);
    latest.set('S4', reading(NOON - 60_000, { state: 'FAULT', events: ['GROUND_FAULT'] }));
    const { findings } = evaluate(
      inputs({
        nowMs: NOON,
        installations: sites,
        latest,
        // 2 of the last 10 silences with counter evidence were outages: (2 + 1) / (10 + 2) = 0.25.
        gapHistory: { device: { outages: 2, communications: 8 }, area: { outages: 0, communications: 0 } },
      }),
    );
    const silent = findings.find((f) => f.key === 'OFFLINE:inverter:3')!;
    const fault = findings.find((f) => f.key === 'FAULT:inverter:4')!;
    expect(silent.detail).toMatchObject({ outageProbability: 0.25 });
    expect(Number(silent.lostRialsPerDay)).toBeCloseTo(Number(fault.lostRialsPerDay) * 0.25, -3);
    expect(fault.lostRialsPerDay).toBeGreaterThan(silent.lostRialsPerDay);
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
          // Producing since it came back: its newest counter is past the first one after the gap.
          latest: new Map([
            ...allReporting(sites, NOON - 60_000),
            ['S3', reading(NOON - 60_000, { counterWh: counterWh + 500 })],
          ]),
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

describe('reporting but not producing', () => {
  const sites = fleet(5);
  // A dead inverter still reporting: STANDBY, counter flat since 3 h before noon; peers produce.
  const dead = (nowMs: number, over: Partial<LatestReading> = {}) => {
    const latest = allReporting(sites, nowMs - 60_000);
    latest.set('S3', reading(nowMs - 60_000, { state: 'STANDBY', flatSinceMs: nowMs - 3 * 3_600_000, ...over }));
    return latest;
  };
  it('opens an OFFLINE alert labelled not_producing within the silent-outage window, priced as an outage', () => {
    const { findings } = evaluate(inputs({ nowMs: NOON, installations: sites, latest: dead(NOON) }));
    expect(findings.map((f) => [f.key, f.rule, f.cause])).toEqual([['OFFLINE:inverter:3', 'OFFLINE', 'not_producing']]);
    expect(findings[0]!.summary).toContain('reporting but not producing');
    expect(findings[0]!.lostKwhPerDay).toBeGreaterThan(25);
    // Flat for 26 minutes (a reading every 5 min): within the 30-minute window; 15 minutes: not yet.
    const flatFor = (minutes: number) =>
      evaluate(
        inputs({ nowMs: NOON, installations: sites, latest: dead(NOON, { flatSinceMs: NOON - minutes * 60_000 }) }),
      ).findings;
    expect(flatFor(26)).toHaveLength(1);
    expect(flatFor(15)).toEqual([]);
  });

  it('not when its neighbours do not produce either (dusk, snow, overcast), not at night, not for THROTTLED or a fault', () => {
    const allFlat = new Map(
      sites.map((s) => [`S${s.id}`, reading(NOON - 60_000, { state: 'STANDBY', flatSinceMs: NOON - 3 * 3_600_000 })]),
    );
    expect(evaluate(inputs({ nowMs: NOON, installations: sites, latest: allFlat })).findings).toEqual([]);
    expect(evaluate(inputs({ nowMs: NIGHT, installations: sites, latest: dead(NIGHT) })).findings).toEqual([]);
    expect(
      evaluate(inputs({ nowMs: NOON, installations: sites, latest: dead(NOON, { state: 'THROTTLED' }) })).findings,
    ).toEqual([]);
    const fault = evaluate(
      inputs({ nowMs: NOON, installations: sites, latest: dead(NOON, { state: 'FAULT', events: ['GROUND_FAULT'] }) }),
    ).findings;
    expect(fault.map((f) => f.rule)).toEqual(['FAULT']);
  });

  it('a silent device that comes back with its counter where it stopped stays open, relabelled; production clears it', () => {
    const active: ActiveAlert[] = [
      {
        id: 9n,
        key: 'OFFLINE:inverter:3',
        rule: 'OFFLINE',
        cause: 'outage',
        detail: { serial: 'S3', lastReadingAt: NOON - 2 * 3_600_000, lastCounterWh: 1_000_000 },
      },
    ];
    // Back for 5 minutes only, STANDBY, counter unchanged since before the silence.
    const back = evaluate(
      inputs({ nowMs: NOON, installations: sites, latest: dead(NOON, { flatSinceMs: NOON - 5 * 60_000 }), active }),
    );
    expect(back.findings.map((f) => [f.key, f.cause])).toEqual([['OFFLINE:inverter:3', 'not_producing']]);
    expect(back.clearances).toEqual([]);
    const notProducing: ActiveAlert[] = [{ ...active[0]!, cause: 'not_producing', detail: back.findings[0]!.detail }];
    const producing = evaluate(
      inputs({ nowMs: NOON, installations: sites, latest: allReporting(sites, NOON - 60_000), active: notProducing }),
    );
    expect(producing.findings).toEqual([]);
    expect(producing.clearances.map((c) => [c.id, c.cause])).toEqual([[9n, 'not_producing']]);
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
    // 40 × ~35 kWh × 30,000 Rial/kWh if it is an outage (about 42 M), half of that until data returns.
    expect(BigInt(findings[0]!.detail.outageRialsPerDay as string)).toBeGreaterThan(30_000_000n);
    expect(findings[0]!.lostRialsPerDay).toBeGreaterThan(15_000_000n);
    expect(findings[0]!.lostRialsPerDay).toBeLessThan(
      BigInt(findings[0]!.detail.outageRialsPerDay as string) / 2n + 1000n,
    );
  });

  it('stays open while its sites come back one by one; the last straggler is judged with its real last reading', () => {
    // 12 of 15 installations dark since 05:00 (Tehran 08:30), coming back one every 3 minutes.
    const sites = fleet(15);
    const dark = fleet(12).map((s) => s.id);
    const darkSince = NOON - 3 * 3_600_000;
    const opened = evaluate(
      inputs({
        nowMs: NOON,
        installations: sites,
        latest: allReporting(sites, NOON - 60_000, dark),
        lastBefore: new Map(dark.map((id) => [`S${id}`, { atMs: darkSince + id * 1000, counterWh: 500_000 + id }])),
      }),
    ).findings;
    expect(opened.map((f) => [f.rule, f.affectedInstallations])).toEqual([['AREA_OUTAGE', 12]]);
    let active: ActiveAlert[] = [
      { id: 1n, key: opened[0]!.key, rule: 'AREA_OUTAGE', cause: 'grid_or_telecom', detail: opened[0]!.detail },
    ];
    // Back: 1..k. With 4 of 12 still dark (below the 50 % that opens it) it stays one area alert.
    const withBack = (back: number) => {
      const stillDark = dark.slice(back);
      const nowMs = NOON + back * 3 * 60_000;
      return evaluate(
        inputs({ nowMs, installations: sites, latest: allReporting(sites, nowMs - 60_000, stillDark), active }),
      );
    };
    for (const back of [4, 8, 10]) {
      const { findings, clearances } = withBack(back);
      expect(findings.map((f) => [f.rule, f.affectedInstallations])).toEqual([['AREA_OUTAGE', 12 - back]]);
      expect(clearances).toEqual([]);
      active = [{ ...active[0]!, detail: findings[0]!.detail }];
    }
    // One left (below the 10 % that keeps it): the area closes; the straggler gets its own alert,
    // with the last reading the area kept for it, never "last reading never".
    const { findings, clearances } = withBack(11);
    expect(clearances.map((c) => c.id)).toEqual([1n]);
    expect(findings.map((f) => [f.key, f.cause])).toEqual([['OFFLINE:inverter:12', 'outage']]);
    expect(findings[0]!.detail).toMatchObject({ lastReadingAt: darkSince + 12_000, lastCounterWh: 500_012 });
    expect(findings[0]!.summary).not.toContain('never');
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
