// Polls one inverter: finds its SunSpec map once (again when the device's map changes), checks it
// is the inverter configured (model 1's serial), then reads the inverter model (and 701) each poll
// and turns them into a reading of the contract, or errors that say which register failed.
import type { Reading } from '../../lib/telemetry/contract';
import { advanceCounter, type CounterState } from './sunspec/counter';
import {
  discoverSunSpec,
  identify,
  type ModelEntry,
  pollPlan,
  type RegisterReader,
  readModel,
  SunSpecError,
} from './sunspec/discover';
import { decodeInverter, toReading } from './sunspec/inverter-reading';

export interface InverterConfig {
  serial: string;
  unitId: number;
  /** W; from the registry at commissioning (model 120's WRtg when the registry has none). */
  ratedAcW?: number;
}

export interface PollResult {
  reading: Reading | null;
  /** One line per problem: the register and why, or why the device could not be read. */
  errors: string[];
}

export class InverterPoller {
  private plan: { inverter?: ModelEntry; der?: ModelEntry } | null = null;
  private ratedAcW: number | undefined;

  constructor(
    readonly config: InverterConfig,
    private readonly reader: RegisterReader,
    /** Persisted by the caller, so a restart does not forget the last published counter. */
    public counter: CounterState = {},
  ) {
    this.ratedAcW = config.ratedAcW;
  }

  /**
   * One poll. `tsMs` stamps the reading (the gateway's trusted time), `monoMs` (a monotonic clock)
   * times the counter's plausibility check, so a clock step cannot make energy look implausible.
   */
  async poll(tsMs: number, monoMs: number): Promise<PollResult> {
    const prefix = `${this.config.serial} (unit ${this.config.unitId})`;
    try {
      if (!this.plan) await this.discover();
      const plan = this.plan!;
      const inverter = plan.inverter ? await readModel(this.reader, plan.inverter) : undefined;
      const der = plan.der ? await readModel(this.reader, plan.der) : undefined;
      const decoded = decodeInverter({ ...(inverter ? { inverter } : {}), ...(der ? { der } : {}) }, this.ratedAcW);
      const errors = decoded.errors.map((e) => `${prefix}: model ${e.model} ${e.point} @${e.address}: ${e.detail}`);
      if (!decoded.energy) return { reading: null, errors };
      const outcome = advanceCounter(this.counter, decoded.energy, monoMs, this.ratedAcW);
      this.counter = outcome.state;
      if (!outcome.publish) return { reading: null, errors: [...errors, `${prefix}: ${outcome.error}`] };
      if (outcome.note) errors.push(`${prefix}: ${outcome.note}`);
      return { reading: toReading(decoded, outcome.wh, tsMs), errors };
    } catch (error) {
      // A map that changed under us (firmware update, another device at the address): find it again.
      if (error instanceof SunSpecError) this.plan = null;
      return { reading: null, errors: [`${prefix}: ${(error as Error).message}`] };
    }
  }

  private async discover(): Promise<void> {
    const map = await discoverSunSpec(this.reader);
    const identity = await identify(this.reader, map);
    if (identity.serial !== this.config.serial)
      throw new SunSpecError(
        `the device reports serial '${identity.serial}', not '${this.config.serial}': check the unit id and the gateway's configuration`,
      );
    this.ratedAcW ??= identity.ratedAcW ?? undefined;
    this.plan = pollPlan(map);
  }
}
