// Polls one inverter: finds out how to read it once (SunSpec discovery, or the vendor register map
// configured for it; again when a SunSpec map changes), checks it is the inverter configured (its
// serial), then reads it each poll and turns the registers into a reading of the contract, or
// errors that say which register failed.
import type { RegisterMap } from '../../lib/registers/format';
import type { Reading } from '../../lib/telemetry/contract';
import type { DecodedInverter } from './registers/decode';
import { toReading } from './registers/decode';
import { identifyByMap, readByMap } from './registers/vendor-device';
import { advanceCounter, type CounterState } from './sunspec/counter';
import {
  discoverSunSpec,
  type Identity,
  identify,
  pollPlan,
  type RegisterReader,
  readModel,
  SunSpecError,
} from './sunspec/discover';
import { decodeInverter } from './sunspec/inverter-reading';

export interface InverterConfig {
  serial: string;
  unitId: number;
  /** W; from the registry at commissioning (the device's own rating when the registry has none). */
  ratedAcW?: number;
}

export interface PollResult {
  reading: Reading | null;
  /** One line per problem: the register and why, or why the device could not be read. */
  errors: string[];
}

/** A device found and identified: who it is, and how to read it. */
export interface OpenedDevice {
  identity: Identity;
  /** `SunSpec 103 at 40000` or the register map's id. */
  how: string;
  read(ratedAcW: number | undefined): Promise<DecodedInverter>;
}

/** Finds how to read the device at `reader`: a vendor map when one is given, else SunSpec. */
export async function openDevice(reader: RegisterReader, map?: RegisterMap): Promise<OpenedDevice> {
  if (map)
    return {
      identity: await identifyByMap(reader, map),
      how: `register map ${map.id}`,
      read: (ratedAcW) => readByMap(reader, map, ratedAcW),
    };
  const sunspec = await discoverSunSpec(reader);
  const identity = await identify(reader, sunspec);
  const plan = pollPlan(sunspec);
  return {
    identity,
    how: `SunSpec ${[plan.inverter?.id, plan.der?.id].filter(Boolean).join('+')} at ${sunspec.base}`,
    read: async (ratedAcW) => {
      const inverter = plan.inverter ? await readModel(reader, plan.inverter) : undefined;
      const der = plan.der ? await readModel(reader, plan.der) : undefined;
      return decodeInverter({ ...(inverter ? { inverter } : {}), ...(der ? { der } : {}) }, ratedAcW);
    },
  };
}

export class InverterPoller {
  private device: OpenedDevice | null = null;
  private ratedAcW: number | undefined;

  constructor(
    readonly config: InverterConfig,
    private readonly reader: RegisterReader,
    /** Persisted by the caller, so a restart does not forget the last published counter. */
    public counter: CounterState = {},
    /** The vendor register map to read it by; without one, SunSpec. */
    private readonly map?: RegisterMap,
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
      this.device ??= await this.open();
      const decoded = await this.device.read(this.ratedAcW);
      const errors = decoded.errors.map((e) => `${prefix}: ${e.map} ${e.point} @${e.address}: ${e.detail}`);
      if (!decoded.energy) return { reading: null, errors };
      const outcome = advanceCounter(this.counter, decoded.energy, monoMs, this.ratedAcW);
      this.counter = outcome.state;
      if (!outcome.publish) return { reading: null, errors: [...errors, `${prefix}: ${outcome.error}`] };
      if (outcome.note) errors.push(`${prefix}: ${outcome.note}`);
      return { reading: toReading(decoded, outcome.wh, tsMs), errors };
    } catch (error) {
      // A map that changed under us (firmware update, another device at the address): find it again.
      if (error instanceof SunSpecError) this.device = null;
      return { reading: null, errors: [`${prefix}: ${(error as Error).message}`] };
    }
  }

  private async open(): Promise<OpenedDevice> {
    const device = await openDevice(this.reader, this.map);
    if (device.identity.serial !== this.config.serial)
      throw new SunSpecError(
        `the device reports serial '${device.identity.serial}', not '${this.config.serial}': check the unit id and the gateway's configuration`,
      );
    this.ratedAcW ??= device.identity.ratedAcW ?? undefined;
    return device;
  }
}
