import { describe, expect, it } from 'vitest';
import { toActiveFault } from './faults';
import { SimulatedInverter, type PowerModel } from './simulated-inverter';

// A plain power curve: 1 kW all day long, so energies are easy to state exactly.
const flat: PowerModel = (_t, dcFactor) => ({
  acPowerW: 1000 * dcFactor,
  state: 'MPPT',
  dcVoltageV: 380,
  dcCurrentA: 2.7,
  acVoltageV: 230,
  acFrequencyHz: 50,
  temperatureC: 30,
});
const T0 = Date.parse('2026-06-21T00:00:00Z');
const steps = (inverter: SimulatedInverter, n: number, stepMs = 300_000) =>
  Array.from({ length: n }, (_, i) => inverter.step(T0 + i * stepMs));

describe('simulated inverter', () => {
  it('counts exactly the integral of its power (1 kW for an hour = 1000 Wh)', () => {
    const emissions = steps(new SimulatedInverter('A', flat, []), 13);
    expect(emissions.at(-1)!.reading.energy_wh_total).toBeCloseTo(1000, 6);
    expect(emissions.reduce((sum, e) => sum + e.producedWh, 0)).toBeCloseTo(1000, 9);
    expect(emissions.map((e) => e.reading.seq)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
  });

  it('applies faults: reset, ground fault, skew, derating, duplicates, offline, malformed', () => {
    const at = (h: number) => new Date(T0 + h * 3_600_000).toISOString();
    const faults = [
      { serial: 'A', kind: 'counter_reset' as const, from: at(1) },
      { serial: 'A', kind: 'ground_fault' as const, from: at(2), until: at(3) },
      { serial: 'A', kind: 'clock_skew' as const, from: at(0), until: at(24), skewSeconds: -30 },
      { serial: 'A', kind: 'broken_string' as const, from: at(3), until: at(4), factor: 0.5 },
      { serial: 'A', kind: 'duplicate_sends' as const, from: at(4), until: at(5) },
      { serial: 'A', kind: 'offline' as const, from: at(5), until: at(6) },
      { serial: 'A', kind: 'malformed_messages' as const, from: at(6), until: at(7) },
    ].map(toActiveFault);
    const e = steps(new SimulatedInverter('A', flat, faults), 12 * 8);
    const hour = (h: number) =>
      e.filter(
        (x) =>
          (x.reading.ts as number) + 30_000 >= T0 + h * 3_600_000 &&
          (x.reading.ts as number) + 30_000 < T0 + (h + 1) * 3_600_000,
      );
    // The new counter starts at zero at the reset and already holds that step's energy.
    expect(e[12]!.reading.events).toEqual(['COUNTER_RESET']);
    expect(e[12]!.reading.energy_wh_total).toBeCloseTo(1000 / 12, 3);
    expect(e[13]!.reading.energy_wh_total).toBeCloseTo(2000 / 12, 3);
    expect(
      hour(2).every(
        (x) => x.reading.state === 'FAULT' && x.reading.ac_power_w === 0 && x.reading.events?.includes('GROUND_FAULT'),
      ),
    ).toBe(true);
    expect(e[0]!.reading.ts).toBe(T0 - 30_000);
    expect(hour(3).every((x) => x.reading.ac_power_w === 500)).toBe(true);
    expect(
      hour(4).every((x) => x.duplicate) && hour(5).every((x) => x.offline) && hour(6).every((x) => x.malformed),
    ).toBe(true);
    expect(hour(7).some((x) => x.duplicate || x.offline || x.malformed)).toBe(false);
    const counters = e.slice(13).map((x) => x.reading.energy_wh_total);
    expect(counters.every((c, i) => i === 0 || c >= counters[i - 1]!)).toBe(true);
  });
});
