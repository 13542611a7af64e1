// Random counter histories with a known true energy, for the counter model's property tests (pure
// core and the reader against InfluxDB).
import fc from 'fast-check';
import { ENERGY_READING_TOLERANCE_WH } from '../../lib/telemetry/contract';
import type { CounterReading, Replacement } from '../src/core/counter-energy';

const H = 3_600_000;
const r = (hours: number, wh: number): CounterReading => ({ tMs: hours * H, wh });

// Random counter histories from a known true energy (issues 10 and 19): dips whose readings rise,
// 1–3 spikes of different values, drops that stay, resets, replacements, silences across any cut
// and independent jitter on every reading.
export type CounterEvent = 'none' | 'spike' | 'dip' | 'drop' | 'reset' | 'replace' | 'silence';
const COUNTER_NOISE_WH = 2 * ENERGY_READING_TOLERANCE_WH;

export const counterHistory = (hours: number) =>
  fc.record({
    hourlyWh: fc.array(fc.integer({ min: 0, max: 4500 }), { minLength: hours, maxLength: hours }),
    events: fc.array(
      fc.constantFrom<CounterEvent>(
        'none',
        'none',
        'none',
        'none',
        'spike',
        'dip',
        'drop',
        'reset',
        'replace',
        'silence',
      ),
      { minLength: hours, maxLength: hours },
    ),
    sizes: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: hours, maxLength: hours }),
    depths: fc.array(fc.integer({ min: 300, max: 900_000 }), { minLength: hours, maxLength: hours }),
    jitter: fc.array(fc.integer({ min: -50, max: 50 }), { minLength: hours + 1, maxLength: hours + 1 }),
    jittered: fc.boolean(),
    startWh: fc.integer({ min: 0, max: 50_000_000 }),
    cutHours: fc.integer({ min: 1, max: hours - 1 }),
  });
export type CounterHistory = {
  hourlyWh: number[];
  events: CounterEvent[];
  sizes: number[];
  depths: number[];
  jitter: number[];
  jittered: boolean;
  startWh: number;
};

/**
 * Hourly readings of a 5 kW inverter (plus the excursions' readings between them) whose counter
 * misbehaves as drawn; `lostAtMostWh` is what the rules may fail to see (always flagged): a drop
 * that comes back within an excursion is a glitch (its depth unseen), a reset loses its hour or,
 * if the new counter catches up with the old one meanwhile, its excursion's energy.
 */
export function simulateCounter(h: CounterHistory) {
  const readings: CounterReading[] = [];
  const replacements: Replacement[] = [];
  let counter = h.startWh;
  let calmUntil = 0;
  let silentUntil = 0;
  let lostAtMostWh = 0;
  let unseenWh = 0;
  const jitter = (i: number) => (h.jittered ? h.jitter[i]! : 0);
  const read = (t: number, wh: number) => r(t, Math.max(0, wh + jitter(t)));
  readings.push(read(0, counter));
  const hours = h.hourlyWh.length;
  // A new counter that catches up with the old one within an excursion is taken for a glitch: what
  // the inverter produced meanwhile is not seen (flagged `glitch`, the reading that bills less).
  const excursionWh = (i: number) => h.hourlyWh.slice(i, i + 7).reduce((a, b) => a + b, 0);
  for (let i = 0; i < hours; i++) {
    counter += h.hourlyWh[i]!;
    const t = i + 1;
    // Whatever breaks the trend is followed by calm readings that confirm or undo it; none in the last hours.
    const ev = t <= calmUntil || t <= silentUntil + 1 || i >= hours - 8 ? 'none' : h.events[i]!;
    if (ev !== 'none') calmUntil = t + 7;
    if (ev === 'silence') silentUntil = t + 1 + (i % 30);
    if (t <= silentUntil && i < hours - 1) continue;
    if (ev === 'reset') {
      // A counter that restarts from so little that it falls by no more than two readings may
      // disagree (plus this history's ±50 Wh jitter on each side) cannot be told from noise: what it
      // held before is not seen.
      const before = counter - h.hourlyWh[i]!;
      if (before - h.hourlyWh[i]! <= COUNTER_NOISE_WH + 100) unseenWh += before;
      lostAtMostWh += excursionWh(i);
      counter = h.hourlyWh[i]!; // restarted from zero at the start of the hour
    }
    if (ev === 'replace') {
      const initialWh = (i * 7919) % 3_000_000;
      replacements.push({ atMs: i * H + H / 2, initialWh });
      counter = initialWh + h.hourlyWh[i]!;
      lostAtMostWh += h.hourlyWh[i]!;
    }
    // Falls back and stays: a reset once confirmed, or a glitch if it catches up within the excursion.
    // (Only a fall the next reading shows: one that the hour's production hides is invisible to anyone.)
    if (ev === 'drop' && h.depths[i]! <= counter && h.depths[i]! > h.hourlyWh[i]! + 300) {
      counter -= h.depths[i]!;
      lostAtMostWh += h.depths[i]! + excursionWh(i);
    }
    readings.push(read(t, counter));
    for (let k = 1; k <= (ev === 'spike' || ev === 'dip' ? h.sizes[i]! : 0); k++) {
      const at = t * H + k * 60_000;
      if (ev === 'spike') readings.push({ tMs: at, wh: (counter + 1_000_000) * (k + 1) });
      else readings.push({ tMs: at, wh: Math.max(0, counter - h.depths[i]! + k * 100) }); // a dip whose readings rise
    }
  }
  // unseenWh: what resets within the noise hid, neither billed nor flagged (billing/README.md).
  return { readings, replacements, lostAtMostWh: lostAtMostWh + unseenWh, unseenWh };
}
