// One simulated inverter, pure: given instants, it produces the readings a real one would publish,
// keeps its lifetime counter as the integral of its power, and the ground truth of what it produced.
import type { InverterState, Reading } from '../../lib/telemetry/contract';
import { dcFactorOf, isActive, type ActiveFault } from './faults';

/** What the physics says the inverter outputs at an instant (with DC derating already applied). */
export interface PowerSample {
  acPowerW: number;
  state: InverterState;
  dcVoltageV: number;
  dcCurrentA: number;
  acVoltageV: number;
  acFrequencyHz: number;
  temperatureC: number;
}
/** dcFactor: fraction of DC power kept (soiling or a broken string injected by a scenario). */
export type PowerModel = (tMs: number, dcFactor: number) => PowerSample;

export interface Emission {
  reading: Reading;
  /** Energy produced in the step that ended with this reading, Wh (ground truth, survives resets). */
  producedWh: number;
  /** Publish it twice (duplicate_sends) / the device is offline and must buffer it. */
  duplicate: boolean;
  offline: boolean;
  /** The site has no power (power_outage): nothing is produced and the datalogger records nothing. */
  unpowered: boolean;
  malformed: boolean;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export class SimulatedInverter {
  private counterWh: number;
  private lastMs: number | null = null;
  private seq = 0;
  private resetsApplied = new Set<ActiveFault>();

  constructor(
    readonly serial: string,
    private readonly power: PowerModel,
    private readonly faults: ActiveFault[],
    initialCounterWh = 0,
  ) {
    this.counterWh = initialCounterWh;
  }

  get energyWhTotal(): number {
    return this.counterWh;
  }

  /**
   * Advances to tMs and returns the reading for that instant. The energy of [previous, tMs) is the
   * power at tMs held over the step (the left-open rectangle rule), so the counter is exactly the
   * integral of the reported power samples.
   */
  step(tMs: number): Emission {
    const active = this.faults.filter(
      (f) => isActive(f, tMs) || (f.kind === 'counter_reset' && f.fromMs <= tMs && !this.resetsApplied.has(f)),
    );
    const has = (kind: ActiveFault['kind']) => active.find((f) => f.kind === kind);
    const dcFactor = active.reduce((k, f) => k * dcFactorOf(f, tMs), 1);
    const fault = has('ground_fault') ?? has('arc_fault');
    // Dead but reporting (a tripped DC breaker, a stuck relay): STANDBY, 0 W, the counter flat.
    const dead = !!has('not_producing');
    const unpowered = !!has('power_outage');
    const sample = this.power(tMs, dcFactor);
    const acPowerW = fault || dead || unpowered ? 0 : sample.acPowerW;
    const dtH = this.lastMs === null ? 0 : (tMs - this.lastMs) / 3_600_000;
    const producedWh = acPowerW * dtH;
    const reset = has('counter_reset');
    if (reset) {
      this.resetsApplied.add(reset);
      this.counterWh = 0;
    }
    this.counterWh += producedWh;
    this.lastMs = tMs;
    this.seq += 1;

    const reading: Reading = {
      ts: tMs + (has('clock_skew')?.skewMs ?? 0),
      energy_wh_total: round3(this.counterWh),
      ac_power_w: round3(acPowerW),
      state: fault ? 'FAULT' : dead && sample.state !== 'SLEEPING' && sample.state !== 'OFF' ? 'STANDBY' : sample.state,
      dc_voltage_v: round3(sample.dcVoltageV),
      dc_current_a: round3(fault || dead ? 0 : sample.dcCurrentA),
      ac_voltage_v: round3(sample.acVoltageV),
      ac_frequency_hz: round3(sample.acFrequencyHz),
      temperature_c: round3(sample.temperatureC),
      seq: this.seq,
    };
    const events = [fault ? fault.kind.toUpperCase() : null, reset ? 'COUNTER_RESET' : null].filter(
      (e): e is string => e !== null,
    );
    if (events.length > 0) reading.events = events;
    return {
      reading,
      producedWh,
      duplicate: !!has('duplicate_sends'),
      offline: !!has('offline'),
      unpowered,
      malformed: !!has('malformed_messages'),
    };
  }
}
