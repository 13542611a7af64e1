// Register points to numbers and back, pure. Decoding gives either a number the device really
// reported or an error that names the point and says why (not implemented, scale factor missing or
// out of range, not a number): a sentinel never becomes a reading. Encoding is what a simulated
// device writes (the simulator's SunSpec and vendor-map devices).
import { pointSize, type RegisterPoint, type RegisterType } from './format';

export type PointResult = { ok: true; value: number } | { ok: false; error: string };
export type StringResult = { ok: true; text: string } | { ok: false; error: string };

/** Registers as read: `words[i]` is the register at `base + i` (undefined: not read). */
export interface RegisterImage {
  base: number;
  words: readonly (number | undefined)[];
}
export type Points = Readonly<Record<string, RegisterPoint>>;
/** What encoding needs of a point (a SunSpec model's point has it too). */
export type PointShape = Pick<RegisterPoint, 'type' | 'size'>;
export interface DecodeOptions {
  /** Apply SunSpec's "not implemented" values (the map's `notImplemented: 'sunspec'`). */
  sentinels: boolean;
}

/**
 * "Not implemented" values, per type (SunSpec Information Model Specification). Besides the
 * standard ones, a signed point at its maximum (0x7FFF, 0x7FFFFFFF) is treated as not implemented:
 * several vendors fill absent signed points with it, and no inverter point the platform reads
 * reaches it in practice (32,767 W on a W_SF of 0 is above every household inverter's rating and
 * is refused by the rating check anyway).
 */
const SENTINELS: Partial<Record<RegisterType, readonly bigint[]>> = {
  int16: [0x8000n, 0x7fffn],
  uint16: [0xffffn],
  enum16: [0xffffn],
  bitfield16: [0xffffn],
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
function rawUnsigned(image: RegisterImage, point: RegisterPoint): bigint | null {
  let raw = 0n;
  for (let i = 0; i < pointSize(point); i++) {
    const word = image.words[point.address - image.base + i];
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
export function rawPoint(points: Points, image: RegisterImage, name: string, options: DecodeOptions): PointResult {
  const point = points[name];
  if (!point) return { ok: false, error: `no point ${name}` };
  const size = pointSize(point);
  const raw = rawUnsigned(image, point);
  if (raw === null)
    return { ok: false, error: `${name}: registers ${point.address}-${point.address + size - 1} were not read` };
  if (options.sentinels && SENTINELS[point.type]?.includes(raw))
    return { ok: false, error: `${name} reads ${hex(raw, size)}: not implemented by the device` };
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

/** The point's scale factor: fixed in the map, or read from the device's `sunssf` point. */
function scaleOf(points: Points, image: RegisterImage, name: string, options: DecodeOptions): PointResult {
  const sf = points[name]?.sf ?? 0;
  if (typeof sf === 'number') return { ok: true, value: sf };
  const read = rawPoint(points, image, sf, options);
  if (!read.ok) return { ok: false, error: `${name}: its scale factor ${read.error}` };
  if (Math.abs(read.value) > MAX_SCALE)
    return { ok: false, error: `${name}: its scale factor ${sf} is ${read.value}, outside -10..10 (garbage)` };
  return read;
}

/** A point's value in its unit: raw × 10^sf, with a device's scale factor read from the same registers. */
export function scaledPoint(points: Points, image: RegisterImage, name: string, options: DecodeOptions): PointResult {
  const raw = rawPoint(points, image, name, options);
  if (!raw.ok) return raw;
  const sf = scaleOf(points, image, name, options);
  if (!sf.ok) return sf;
  // Dividing by 10^-sf keeps 1234 × 10^-1 at 123.4 instead of 123.40000000000001.
  const value = sf.value < 0 ? raw.value / 10 ** -sf.value : raw.value * 10 ** sf.value;
  return { ok: true, value };
}

/** A string point: ASCII/UTF-8 bytes, NUL padded; all NULs means not implemented. */
export function stringPoint(points: Points, image: RegisterImage, name: string): StringResult {
  const point = points[name];
  if (point?.type !== 'string') return { ok: false, error: `no string point ${name}` };
  const bytes: number[] = [];
  for (let i = 0; i < pointSize(point); i++) {
    const word = image.words[point.address - image.base + i];
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

/** The registers of a raw integer value (two's complement for negatives), big-endian. */
export function encodeRaw(point: PointShape, value: number): number[] {
  const size = pointSize(point);
  let v = BigInt(Math.trunc(value));
  if (v < 0n) v = BigInt.asUintN(size * 16, v);
  const words = new Array<number>(size);
  for (let i = size - 1; i >= 0; i--) {
    words[i] = Number(v & 0xffffn);
    v >>= 16n;
  }
  return words;
}

/**
 * The registers that show `value` (in the field's unit) at scale factor `sf`; a counter is rounded
 * down (`roundDown`): firmware only shows whole units it has reached.
 */
export function encodeScaled(point: PointShape, value: number, sf: number, roundDown = false): number[] {
  if (point.type === 'float32') {
    const view = new DataView(new ArrayBuffer(4));
    view.setFloat32(0, value);
    return [view.getUint16(0), view.getUint16(2)];
  }
  const raw = roundDown ? Math.floor(value / 10 ** sf) : Math.round(value / 10 ** sf);
  return encodeRaw(point, pointSize(point) === 2 && raw >= 0 ? raw % 2 ** 32 : raw);
}

/** ASCII text, NUL padded to the point's size. */
export function encodeString(point: PointShape, text: string): number[] {
  const size = pointSize(point);
  const bytes = Buffer.alloc(size * 2);
  bytes.write(text.slice(0, size * 2), 'latin1');
  return Array.from({ length: size }, (_, i) => bytes.readUInt16BE(i * 2));
}
