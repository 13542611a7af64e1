// Finding a device's SunSpec map: the `SunS` marker at one of the standard bases, then the chain
// of models (ID, length) up to the end marker. Works on any register reader (TCP, RTU, a test's).
import { SUNSPEC_BASE_ADDRESSES, SUNSPEC_END_MODEL, SUNSPEC_MARKER, SUNSPEC_MODELS } from '../../../lib/sunspec/models';
import type { ModelBlock } from './inverter-reading';
import { scaledPoint, stringPoint } from '../../../lib/registers/codec';
import { sunspecPoints } from '../../../lib/registers/sunspec-maps';

export interface RegisterReader {
  /** Holding registers (function code 3), `count` ≤ 125. */
  readHoldingRegisters(address: number, count: number): Promise<number[]>;
}

export interface ModelEntry {
  id: number;
  /** Address of the model's ID register. */
  address: number;
  length: number;
}
export interface SunSpecMap {
  base: number;
  models: ModelEntry[];
}

export class SunSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SunSpecError';
  }
}

/** Modbus allows 125 registers per read. */
export const MAX_READ = 125;
const MAX_MODELS = 64;

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

export async function discoverSunSpec(reader: RegisterReader): Promise<SunSpecMap> {
  const tried: string[] = [];
  for (const base of SUNSPEC_BASE_ADDRESSES) {
    let marker: number[];
    try {
      marker = await reader.readHoldingRegisters(base, 2);
    } catch (error) {
      tried.push(`${base}: ${errorText(error)}`);
      continue;
    }
    if (marker[0] === SUNSPEC_MARKER[0] && marker[1] === SUNSPEC_MARKER[1])
      return { base, models: await walk(reader, base) };
    tried.push(`${base}: no SunS marker`);
  }
  throw new SunSpecError(
    `not a SunSpec device (${tried.join('; ')}): check that Modbus TCP is enabled on the inverter and the unit id, or use a register map`,
  );
}

async function walk(reader: RegisterReader, base: number): Promise<ModelEntry[]> {
  const models: ModelEntry[] = [];
  let address = base + 2;
  for (let i = 0; i < MAX_MODELS; i++) {
    let header: number[];
    try {
      header = await reader.readHoldingRegisters(address, 2);
    } catch (error) {
      // Some devices end the chain with an illegal address instead of the end marker.
      if (models.length > 0) return models;
      throw new SunSpecError(
        `SunSpec map at ${base}: the first model header at ${address} cannot be read: ${errorText(error)}`,
      );
    }
    const [id = SUNSPEC_END_MODEL, length = 0] = header;
    if (id === SUNSPEC_END_MODEL) return models;
    if (address + 2 + length > 0x10000)
      throw new SunSpecError(
        `SunSpec map at ${base}: model ${id} at ${address} claims ${length} registers, past the end of the address space`,
      );
    const known = SUNSPEC_MODELS.get(id);
    if (known && length < known.length && id !== 1)
      throw new SunSpecError(
        `SunSpec map at ${base}: model ${id} at ${address} has length ${length}, the model needs ${known.length}`,
      );
    models.push({ id, address, length });
    address += 2 + length;
  }
  throw new SunSpecError(`SunSpec map at ${base}: more than ${MAX_MODELS} models without an end marker`);
}

/** A model's registers in one read (the first 125 for longer models: 701's points we use lie there). */
export async function readModel(reader: RegisterReader, entry: ModelEntry): Promise<ModelBlock> {
  const model = SUNSPEC_MODELS.get(entry.id);
  if (!model) throw new SunSpecError(`model ${entry.id} is not one the gateway reads`);
  const registers = await reader.readHoldingRegisters(entry.address, Math.min(entry.length + 2, MAX_READ));
  if (registers[0] !== entry.id)
    throw new SunSpecError(
      `model ${entry.id} at ${entry.address} now reads ID ${registers[0]}: the map changed, discover again`,
    );
  return { model, address: entry.address, registers };
}

export const INVERTER_MODEL_IDS = [101, 102, 103, 111, 112, 113] as const;

/** Which of the map's models the gateway polls: the first inverter model and 701, if present. */
export function pollPlan(map: SunSpecMap): { inverter?: ModelEntry; der?: ModelEntry } {
  const inverter = map.models.find((m) => (INVERTER_MODEL_IDS as readonly number[]).includes(m.id));
  const der = map.models.find((m) => m.id === 701);
  if (!inverter && !der)
    throw new SunSpecError(
      `the device's SunSpec map has no inverter model (101-103, 111-113 or 701); it has ${map.models.map((m) => m.id).join(', ') || 'none'}`,
    );
  return { ...(inverter ? { inverter } : {}), ...(der ? { der } : {}) };
}

export interface Identity {
  manufacturer: string;
  model: string;
  serial: string;
  version: string | null;
  /** Model 120's WRtg, W, where the device has it. */
  ratedAcW: number | null;
}

/** Model 1 (who the device is) and model 120 (its rating). */
export async function identify(reader: RegisterReader, map: SunSpecMap): Promise<Identity> {
  const common = map.models.find((m) => m.id === 1);
  if (!common) throw new SunSpecError('the SunSpec map has no common model (1)');
  const block = await readModel(reader, common);
  const commonPoints = sunspecPoints(block.model);
  const text = (name: string) => {
    const result = stringPoint(commonPoints, { base: 0, words: block.registers }, name);
    return result.ok ? result.text : null;
  };
  const serial = text('SN');
  if (serial === null) throw new SunSpecError('model 1 has no serial number (SN is empty or garbage)');
  const nameplate = map.models.find((m) => m.id === 120);
  let ratedAcW: number | null = null;
  if (nameplate) {
    const plate = await readModel(reader, nameplate);
    const rating = scaledPoint(sunspecPoints(plate.model), { base: 0, words: plate.registers }, 'WRtg', {
      sentinels: true,
    });
    ratedAcW = rating.ok ? rating.value : null;
  }
  return { manufacturer: text('Mn') ?? '', model: text('Md') ?? '', serial, version: text('Vr'), ratedAcW };
}
