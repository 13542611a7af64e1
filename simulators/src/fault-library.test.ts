// The labelled fault library and the faults it added, without servers.
import { describe, expect, it } from 'vitest';
import { faultFreeTwin, labelledFleet } from './fault-library';
import { FAULT_KINDS, toActiveFault } from './faults';
import { parseScenario, planFleet } from './scenario';
import { SimulatedInverter, type PowerModel } from './simulated-inverter';

const T0 = Date.parse('2026-06-21T00:00:00Z');
const flat: PowerModel = (_t, dcFactor) => ({
  acPowerW: 1000 * dcFactor,
  state: 'MPPT',
  dcVoltageV: 380,
  dcCurrentA: 2.7,
  acVoltageV: 230,
  acFrequencyHz: 50,
  temperatureC: 30,
});

describe('faults for the quiet failures', () => {
  it('not_producing reports STANDBY at 0 W with a flat counter; arc_fault is a FAULT with its event', () => {
    const at = (h: number) => new Date(T0 + h * 3_600_000).toISOString();
    const faults = [
      { serial: 'A', kind: 'not_producing' as const, from: at(1), until: at(2) },
      { serial: 'A', kind: 'arc_fault' as const, from: at(3), until: at(4) },
    ].map(toActiveFault);
    const inverter = new SimulatedInverter('A', flat, faults);
    const e = Array.from({ length: 12 * 5 }, (_, i) => inverter.step(T0 + i * 300_000));
    const dead = e.slice(13, 24);
    expect(dead.every((x) => x.reading.state === 'STANDBY' && x.reading.ac_power_w === 0)).toBe(true);
    expect(new Set(dead.map((x) => x.reading.energy_wh_total)).size).toBe(1);
    expect(dead.every((x) => !x.offline && !x.unpowered)).toBe(true);
    expect(e[40]!.reading).toMatchObject({ state: 'FAULT', ac_power_w: 0, events: ['ARC_FAULT'] });
  });

  it('gradual_soiling loses its percentage per day down to its floor, and cleaning restores it', () => {
    const day = 86_400_000;
    const fault = toActiveFault({
      serial: 'A',
      kind: 'gradual_soiling',
      from: new Date(T0).toISOString(),
      until: new Date(T0 + 30 * day).toISOString(),
      percentPerDay: 2,
      factor: 0.7,
    });
    const inverter = new SimulatedInverter('A', flat, [fault]);
    expect(inverter.step(T0 + 5 * day).reading.ac_power_w).toBeCloseTo(900, 6);
    expect(inverter.step(T0 + 20 * day).reading.ac_power_w).toBeCloseTo(700, 6);
    expect(inverter.step(T0 + 31 * day).reading.ac_power_w).toBeCloseTo(1000, 6);
  });
});

describe('labelled fault library', () => {
  const fleet = labelledFleet({
    fromMs: Date.parse('2026-09-30T20:30:00Z'),
    days: 21,
    perProvince: 26,
    seed: 1,
    intervalSeconds: 600,
  });
  it('is a valid scenario of 208 installations with every fault kind a technician meets, each labelled', () => {
    const scenario = parseScenario(JSON.stringify(fleet.scenario), 'library');
    expect(scenario.inverters).toHaveLength(208);
    const kinds = new Set(scenario.faults!.map((f) => f.kind));
    for (const k of [
      'power_outage',
      'offline',
      'not_producing',
      'ground_fault',
      'arc_fault',
      'broken_string',
      'gradual_soiling',
    ])
      expect(kinds).toContain(k);
    expect(FAULT_KINDS).toContain('gradual_soiling');
    expect(new Set(fleet.incidents.map((i) => i.kind))).toEqual(
      new Set([
        'outage',
        'communications',
        'not_producing',
        'ground_fault',
        'arc_fault',
        'step_loss',
        'soiling',
        'soiling_cleaned',
        'area_grid_staggered',
        'area_telecom',
        'night_outage',
        'short_gap',
      ]),
    );
    // One device incident per installation; the staggered area's members come back 3 minutes apart.
    const devices = fleet.incidents.filter((i) => !i.kind.startsWith('area')).flatMap((i) => i.serials);
    expect(new Set(devices).size).toBe(devices.length);
    const grid = scenario.faults!.filter((f) => f.kind === 'power_outage' && f.serial.startsWith('QA-0-'));
    expect(grid).toHaveLength(14);
    expect(Date.parse(grid[1]!.until!) - Date.parse(grid[0]!.until!)).toBe(180_000);
  });

  it('its fault-free twin produces what the faulty fleet would have without its faults', () => {
    const planned = planFleet(fleet.scenario).slice(0, 3);
    const twin = faultFreeTwin(planned, {
      seed: 1,
      fromMs: fleet.fromMs,
      toMs: fleet.fromMs + 86_400_000,
      intervalSeconds: 600,
    });
    const day = '2026-10-01';
    // A 5 kWp array in October: 15-35 kWh a day.
    for (const p of planned) {
      expect(twin[p.spec.serial]!.days[day]).toBeGreaterThan(10_000);
      expect(twin[p.spec.serial]!.days[day]).toBeLessThan(40_000);
    }
  });
});
