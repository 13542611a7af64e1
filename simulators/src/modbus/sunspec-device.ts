// A simulated inverter's SunSpec register map, pure: the `SunS` marker, model 1 (identity),
// model 120 (rating) and one inverter model (103 integers with scale factors, 113 floats, or 701
// alone), then the end marker. Every point the simulator does not fill reads as SunSpec's "not
// implemented" value for its type, as on a real device.
import { SUNSPEC_END_MODEL, SUNSPEC_MARKER, SUNSPEC_MODELS, type SunSpecModel } from '../../../lib/sunspec/models';
import { encodeRaw, encodeScaled, encodeString } from '../../../lib/registers/codec';
import { INVERTER_STATES, type Reading } from '../../../lib/telemetry/contract';

export const SUNSPEC_PROFILES = ['int', 'float', 'der'] as const;
export type SunSpecProfile = (typeof SUNSPEC_PROFILES)[number];
const PROFILE_MODEL: Record<SunSpecProfile, number> = { int: 103, float: 113, der: 701 };

export interface DeviceIdentity {
  serial: string;
  ratedAcW: number;
  manufacturer?: string;
  model?: string;
}

/** A Modbus exception the server answers with (02: illegal data address). */
export class ModbusException extends Error {
  constructor(
    readonly modbusErrorCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'ModbusException';
  }
}

const NOT_IMPLEMENTED: Record<string, number[]> = {
  int16: [0x8000],
  sunssf: [0x8000],
  uint16: [0xffff],
  enum16: [0xffff],
  pad: [0x8000],
  acc32: [0, 0],
  uint32: [0xffff, 0xffff],
  bitfield32: [0xffff, 0xffff],
  float32: [0x7fc0, 0],
  uint64: [0xffff, 0xffff, 0xffff, 0xffff],
};

/** Scale factors the simulated device uses (fixed, as most firmware does; power's fits the rating). */
function scaleFactors(ratedAcW: number): Record<number, Record<string, number>> {
  const scaleToFit = (max: number, limit: number) => (max > limit ? Math.ceil(Math.log10(max / limit)) : 0);
  const powerSf = scaleToFit(ratedAcW * 1.5, 32_000);
  return {
    103: {
      W_SF: powerSf,
      WH_SF: 0,
      A_SF: -2,
      V_SF: -1,
      Hz_SF: -2,
      DCA_SF: -2,
      DCV_SF: -1,
      DCW_SF: powerSf,
      Tmp_SF: -1,
    },
    701: { W_SF: powerSf, TotWh_SF: 0, A_SF: -2, V_SF: -1, Hz_SF: -3, Tmp_SF: -1 },
    120: { WRtg_SF: scaleToFit(ratedAcW, 65_000) },
  };
}

export class SunSpecDevice {
  readonly modelId: number;
  private readonly words: Uint16Array;
  private readonly modelAddress = new Map<number, number>();
  private readonly scale: Record<number, Record<string, number>>;

  constructor(
    readonly base: number,
    readonly profile: SunSpecProfile,
    identity: DeviceIdentity,
  ) {
    this.modelId = PROFILE_MODEL[profile];
    this.scale = scaleFactors(identity.ratedAcW);
    const chain = [1, 120, this.modelId].map((id) => SUNSPEC_MODELS.get(id)!);
    const size = 2 + chain.reduce((n, m) => n + 2 + m.length, 0) + 2;
    if (base + size > 0x10000) throw new Error(`a SunSpec map at ${base} does not fit below 65536`);
    this.words = new Uint16Array(size);
    this.words.set(SUNSPEC_MARKER, 0);
    let at = 2;
    for (const model of chain) {
      this.modelAddress.set(model.id, base + at);
      this.words[at] = model.id;
      this.words[at + 1] = model.length;
      for (const point of Object.values(model.points))
        this.words.set(NOT_IMPLEMENTED[point.type] ?? new Array(point.size).fill(0), at + point.offset);
      for (const [name, sf] of Object.entries(this.scale[model.id] ?? {})) this.setRaw(model, name, sf);
      at += 2 + model.length;
    }
    this.words.set([SUNSPEC_END_MODEL, 0], at);
    const common = SUNSPEC_MODELS.get(1)!;
    this.setString(common, 'Mn', identity.manufacturer ?? 'SolarIncomeSim');
    this.setString(common, 'Md', identity.model ?? `SIM-${profile.toUpperCase()}`);
    this.setString(common, 'Vr', '1.0.0');
    this.setString(common, 'SN', identity.serial);
    this.setScaled(SUNSPEC_MODELS.get(120)!, 'WRtg', identity.ratedAcW);
    this.setRaw(SUNSPEC_MODELS.get(120)!, 'DERTyp', 4); // PV
  }

  get describe(): string {
    return `SunSpec model ${this.modelId} at ${this.base}`;
  }

  /** Holding registers as a Modbus server answers them; outside the map, an illegal address. */
  read(address: number, count: number): number[] {
    const from = address - this.base;
    if (from < 0 || from + count > this.words.length || count < 1)
      throw new ModbusException(2, `registers ${address}-${address + count - 1} are outside the SunSpec map`);
    return Array.from(this.words.subarray(from, from + count));
  }

  /** Writes one reading into the registers (what the inverter shows until its next update). */
  update(reading: Reading): void {
    const model = SUNSPEC_MODELS.get(this.modelId)!;
    const stateIndex = INVERTER_STATES.indexOf(reading.state);
    const eventBits = reading.events?.includes('GROUND_FAULT') ? 1 : 0;
    // The counter as firmware keeps it: whole Wh, never rounded up (a Wh not yet produced).
    const wh = Math.floor(reading.energy_wh_total);
    if (this.modelId === 701) {
      this.setScaled(model, 'W', reading.ac_power_w);
      this.setRaw(model, 'TotWhInj', wh);
      this.setRaw(model, 'InvSt', stateIndex);
      this.setRaw(model, 'Alrm', eventBits);
      this.setRaw(model, 'ACType', 1);
      this.setScaled(model, 'LNV', reading.ac_voltage_v);
      this.setScaled(model, 'Hz', reading.ac_frequency_hz);
      this.setScaled(model, 'TmpCab', reading.temperature_c);
      return;
    }
    this.setScaled(model, 'W', reading.ac_power_w);
    this.setScaled(model, 'WH', wh);
    this.setRaw(model, 'St', stateIndex + 1);
    this.setRaw(model, 'Evt1', eventBits);
    this.setRaw(model, 'Evt2', 0);
    this.setScaled(model, 'PhVphA', reading.ac_voltage_v);
    this.setScaled(model, 'Hz', reading.ac_frequency_hz);
    this.setScaled(model, 'DCV', reading.dc_voltage_v);
    this.setScaled(model, 'DCA', reading.dc_current_a);
    this.setScaled(model, 'TmpCab', reading.temperature_c);
  }

  /** Overwrites registers (a test's garbage); offset from the inverter model's ID register. */
  poke(pointName: string, words: number[]): void {
    const model = SUNSPEC_MODELS.get(this.modelId)!;
    const point = model.points[pointName];
    if (!point) throw new Error(`model ${this.modelId} has no point ${pointName}`);
    this.words.set(words, this.modelAddress.get(this.modelId)! - this.base + point.offset);
  }

  private at(model: SunSpecModel, name: string) {
    const point = model.points[name]!;
    return { point, index: this.modelAddress.get(model.id)! - this.base + point.offset };
  }

  private setRaw(model: SunSpecModel, name: string, value: number): void {
    const { point, index } = this.at(model, name);
    this.words.set(encodeRaw(point, value), index);
  }

  private setScaled(model: SunSpecModel, name: string, value: number | undefined): void {
    if (value === undefined) return;
    const { point, index } = this.at(model, name);
    const sf = point.sf ? (this.scale[model.id]?.[point.sf] ?? 0) : 0;
    // Accumulators are not rounded: the firmware's counter only shows whole units it has reached.
    this.words.set(encodeScaled(point, value, sf, point.type === 'acc32'), index);
  }

  private setString(model: SunSpecModel, name: string, text: string): void {
    const { point, index } = this.at(model, name);
    this.words.set(encodeString(point, text), index);
  }
}
