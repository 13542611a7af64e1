// A simulated inverter that speaks a vendor's register map instead of SunSpec (e.g. Huawei
// SUN2000): its identity and readings written into the map's registers, pure. The map is the
// gateway's (lib/registers/maps), so the simulator serves exactly the table the gateway reads.
import { encodeRaw, encodeScaled, encodeString } from '../../../lib/registers/codec';
import { pointSize, type RegisterMap } from '../../../lib/registers/format';
import type { InverterState, Reading } from '../../../lib/telemetry/contract';
import { type DeviceIdentity, ModbusException } from './sunspec-device';

/** A contract state the vendor has no value for is shown as the nearest one it has. */
const NEAREST_STATE: Partial<Record<InverterState, InverterState>> = { SHUTTING_DOWN: 'OFF' };

export class MapDevice {
  /** Sparse register file: only the map's blocks answer, as a device answers only its table. */
  private readonly words = new Map<number, number>();
  private readonly stateRaw = new Map<InverterState, number>();

  constructor(
    readonly map: RegisterMap,
    identity: DeviceIdentity,
  ) {
    for (const block of [...map.reading.blocks, ...(map.identity?.blocks ?? [])])
      for (let a = block.address; a < block.address + block.count; a++) this.words.set(a, 0);
    for (const [raw, state] of Object.entries(map.reading.state.values))
      if (!this.stateRaw.has(state)) this.stateRaw.set(state, Number(raw));
    const { identity: who } = map;
    if (who) {
      this.set(who.serial, encodeString(map.points[who.serial]!, identity.serial));
      if (who.model) this.set(who.model, encodeString(map.points[who.model]!, identity.model ?? `SIM-${map.id}`));
      if (who.ratedAcW) this.setScaled(who.ratedAcW, identity.ratedAcW);
    }
  }

  get describe(): string {
    return `register map ${this.map.id}`;
  }

  read(address: number, count: number): number[] {
    const out: number[] = [];
    for (let a = address; a < address + count; a++) {
      const word = this.words.get(a);
      if (word === undefined) throw new ModbusException(2, `register ${a} is not in the ${this.map.title} table`);
      out.push(word);
    }
    return out;
  }

  update(reading: Reading): void {
    const { reading: fields } = this.map;
    this.setScaled(fields.energyWhTotal, reading.energy_wh_total, true);
    this.setScaled(fields.acPowerW, reading.ac_power_w);
    const state = this.stateRaw.get(reading.state) ?? this.stateRaw.get(NEAREST_STATE[reading.state] ?? 'OFF') ?? 0;
    this.set(fields.state.point, encodeRaw(this.map.points[fields.state.point]!, state));
    for (const { point, bits } of fields.events ?? []) {
      const value = Object.entries(bits)
        .filter(([, name]) => reading.events?.includes(name))
        .reduce((v, [bit]) => v + 2 ** Number(bit), 0);
      this.set(point, encodeRaw(this.map.points[point]!, value));
    }
    for (const [field, point] of Object.entries(fields.optional ?? {}))
      if (point) this.setScaled(point, reading[field as keyof Reading] as number | undefined);
  }

  /** Overwrites a point's registers (a test's garbage). */
  poke(pointName: string, words: number[]): void {
    this.set(pointName, words);
  }

  private set(name: string, words: number[]): void {
    const point = this.map.points[name];
    if (!point) throw new Error(`${this.map.id} has no point ${name}`);
    for (const [i, w] of words.slice(0, pointSize(point)).entries()) this.words.set(point.address + i, w & 0xffff);
  }

  private setScaled(name: string, value: number | undefined, roundDown = false): void {
    if (value === undefined) return;
    const point = this.map.points[name]!;
    // Vendor maps have fixed scale factors (a `sunssf` point would be SunSpec's own device).
    this.set(name, encodeScaled(point, value, typeof point.sf === 'number' ? point.sf : 0, roundDown));
  }
}
