// The simulator's exact record of what each inverter produced, per Tehran day, and the faults it
// injected: what tests and the billing end-to-end check compare the platform against.
import { writeFileSync } from 'node:fs';
import { tehranDate } from '../../lib/program/tehran-time';
import type { ActiveFault } from './faults';

export interface InverterTruth {
  days: Record<string, number>;
  counterWhAtEnd: number;
  faults: { kind: string; from: string; until: string | null }[];
}
export interface GroundTruth {
  generatedAt: string;
  seed: number;
  from: string;
  to: string;
  intervalSeconds: number;
  inverters: Record<string, InverterTruth>;
}

export class GroundTruthRecorder {
  private readonly inverters = new Map<string, InverterTruth>();
  private lastMs = Number.NEGATIVE_INFINITY;
  constructor(private readonly meta: { seed: number; fromMs: number; toMs: number; intervalSeconds: number }) {}

  register(serial: string, faults: ActiveFault[]): void {
    this.inverters.set(serial, {
      days: {},
      counterWhAtEnd: 0,
      faults: faults.map((f) => ({
        kind: f.kind,
        from: new Date(f.fromMs).toISOString(),
        until: Number.isFinite(f.untilMs) && f.untilMs !== f.fromMs ? new Date(f.untilMs).toISOString() : null,
      })),
    });
  }

  /** Energy produced in the step ending at tMs belongs to the day of the step's end. */
  record(serial: string, tMs: number, producedWh: number, counterWh: number): void {
    const truth = this.inverters.get(serial)!;
    const day = tehranDate(tMs - 1);
    truth.days[day] = (truth.days[day] ?? 0) + producedWh;
    truth.counterWhAtEnd = counterWh;
    if (tMs > this.lastMs) this.lastMs = tMs;
  }

  snapshot(): GroundTruth {
    return {
      generatedAt: new Date().toISOString(),
      seed: this.meta.seed,
      from: new Date(this.meta.fromMs).toISOString(),
      // A real-time run has no planned end: the truth covers what was simulated.
      to: new Date(
        Number.isFinite(this.meta.toMs) ? this.meta.toMs : Math.max(this.lastMs, this.meta.fromMs),
      ).toISOString(),
      intervalSeconds: this.meta.intervalSeconds,
      inverters: Object.fromEntries(
        [...this.inverters].map(([serial, t]) => [
          serial,
          {
            ...t,
            days: Object.fromEntries(Object.entries(t.days).map(([d, wh]) => [d, Math.round(wh * 1000) / 1000])),
          },
        ]),
      ),
    };
  }

  write(path: string): void {
    writeFileSync(path, `${JSON.stringify(this.snapshot(), null, 1)}\n`);
  }
}
