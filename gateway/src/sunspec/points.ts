// Decoding one SunSpec point from a model's registers, pure. A value is either a number the
// device really reported or an error that names the point and says why (not implemented, scale
// factor missing or out of range, not a number): a sentinel never becomes a reading.
import type { SunSpecModel, SunSpecPoint } from '../../../lib/sunspec/models';

export type PointResult = { ok: true; value: number } | { ok: false; error: string };

/**
 * "Not implemented" values, per type (SunSpec Information Model Specification). Besides the
 * standard ones, a signed point at its maximum (0x7FFF, 0x7FFFFFFF) is treated as not implemented:
 * several vendors fill absent signed points with it, and no inverter point the platform reads
 * reaches it in practice (32,767 W on a W_SF of 0 is above every household inverter's rating and
 * is refused by the rating check anyway).
 */
const SENTINELS: Partial<Record<SunSpecPoint['type'], readonly bigint[]>> = {
  int16: [0x8000n, 0x7fffn],
  uint16: [0xffffn],
  enum16: [0xffffn],
  sunssf: [0x8000n],
  int32: [0x80000000n, 0x7fffffffn],
  uint32: [0xffffffffn],
  bitfield32: [0xffffffffn],
  // An accumulator that does not accumulate reads 0.
  acc32: [0n],
  uint64: [0xffffffffffffffffn],
  acc64: [0n],
};

/** The raw unsigned value of a point's registers, big-endian (Modbus word order, SunSpec's). */
function rawUnsigned(registers: readonly number[], point: SunSpecPoint): bigint | null {
  let raw = 0n;
  for (let i = 0; i < point.size; i++) {
    const word = registers[point.offset + i];
    if (word === undefined || !Number.isInteger(word) || word < 0 || word > 0xffff) return null;
    raw = (raw << 16n) | BigInt(word);
  }
  return raw;
}

const hex = (raw: bigint, size: number) =>
  `0x${raw
    .toString(16)
    .toUpperCase()
    .padStart(size * 4, '0')}`;

/** A point's value without its scale factor applied. */
export function rawPoint(model: SunSpecModel, registers: readonly number[], name: string): PointResult {
  const point = model.points[name];
  if (!point) return { ok: false, error: `model ${model.id} has no point ${name}` };
  const raw = rawUnsigned(registers, point);
  if (raw === null)
    return { ok: false, error: `${name}: registers ${point.offset}-${point.offset + point.size - 1} were not read` };
  if (SENTINELS[point.type]?.includes(raw))
    return { ok: false, error: `${name} reads ${hex(raw, point.size)}: not implemented by the device` };
  switch (point.type) {
    case 'int16':
    case 'sunssf':
      return { ok: true, value: Number(BigInt.asIntN(16, raw)) };
    case 'int32':
      return { ok: true, value: Number(BigInt.asIntN(32, raw)) };
    case 'float32': {
      const view = new DataView(new ArrayBuffer(4));
      view.setUint32(0, Number(raw));
      const value = view.getFloat32(0);
      if (!Number.isFinite(value))
        return { ok: false, error: `${name} reads ${hex(raw, 2)} (${value}): not implemented or not a number` };
      return { ok: true, value };
    }
    case 'uint64':
    case 'acc64':
      if (raw > BigInt(Number.MAX_SAFE_INTEGER))
        return { ok: false, error: `${name} reads ${hex(raw, 4)}: beyond 2^53, not a counter this platform can hold` };
      return { ok: true, value: Number(raw) };
    case 'string':
    case 'pad':
      return { ok: false, error: `${name} is a ${point.type}, not a number` };
    default:
      return { ok: true, value: Number(raw) };
  }
}

/** SunSpec's scale factors are powers of ten from 10^-10 to 10^10; anything else is garbage. */
const MAX_SCALE = 10;

/** A point's value in its unit: raw × 10^sf, with the scale factor read from the same registers. */
export function scaledPoint(model: SunSpecModel, registers: readonly number[], name: string): PointResult {
  const raw = rawPoint(model, registers, name);
  const sfName = model.points[name]?.sf;
  if (!raw.ok || !sfName) return raw;
  const sf = rawPoint(model, registers, sfName);
  if (!sf.ok) return { ok: false, error: `${name}: its scale factor ${sf.error}` };
  if (Math.abs(sf.value) > MAX_SCALE)
    return { ok: false, error: `${name}: its scale factor ${sfName} is ${sf.value}, outside -10..10 (garbage)` };
  // Dividing by 10^-sf keeps 1234 × 10^-1 at 123.4 instead of 123.40000000000001.
  const value = sf.value < 0 ? raw.value / 10 ** -sf.value : raw.value * 10 ** sf.value;
  return { ok: true, value };
}

/** A string point: ASCII/UTF-8 bytes, NUL padded; all NULs means not implemented. */
export type StringResult = { ok: true; text: string } | { ok: false; error: string };

export function stringPoint(model: SunSpecModel, registers: readonly number[], name: string): StringResult {
  const point = model.points[name];
  if (point?.type !== 'string') return { ok: false, error: `model ${model.id} has no string point ${name}` };
  const bytes: number[] = [];
  for (let i = 0; i < point.size; i++) {
    const word = registers[point.offset + i];
    if (word === undefined) return { ok: false, error: `${name}: registers were not read` };
    bytes.push(word >> 8, word & 0xff);
  }
  const end = bytes.indexOf(0);
  const text = Buffer.from(end === -1 ? bytes : bytes.slice(0, end))
    .toString('utf8')
    .trim();
  if (text.length === 0) return { ok: false, error: `${name} is empty: not implemented by the device` };
  if ([...text].some((c) => c < ' ' || c === '\u007f' || c === '\ufffd'))
    return { ok: false, error: `${name} holds control or invalid bytes (garbage)` };
  return { ok: true, text };
}
