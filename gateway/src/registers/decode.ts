// A reading from registers, by a register map (lib/registers/format.ts), pure: the same
// interpreter for SunSpec's models and for a vendor's table. Each point that cannot be trusted is
// reported with its map, point and Modbus address; a reading is only made when the counter, the
// power and the state are all sound.
import { type DecodeOptions, type RegisterImage, rawPoint, scaledPoint } from '../../../lib/registers/codec';
import type { OptionalField, RegisterMap } from '../../../lib/registers/format';
import { type InverterState, Reading } from '../../../lib/telemetry/contract';
import type { EnergySample } from '../sunspec/counter';

export interface RegisterError {
  /** `model 103`, `huawei-sun2000`... */
  map: string;
  point: string;
  /** Modbus address of the point's first register. */
  address: number;
  detail: string;
}

export interface DecodedInverter {
  energy: EnergySample | null;
  acPowerW: number | null;
  state: InverterState | null;
  optional: Partial<Record<OptionalField, number>>;
  events: string[];
  errors: RegisterError[];
}

/** Instantaneous power may overshoot the rating briefly; far above it, the register is garbage. */
const POWER_HEADROOM = 1.5;
const MAX_EVENTS = 32;

export interface DecodeSource {
  map: RegisterMap;
  /** The registers read (the map's reading blocks). */
  image: RegisterImage;
  /** Modbus address of the map's address 0 (a SunSpec model's ID register; 0 for a vendor map). */
  origin: number;
  /** How errors name it. */
  label: string;
}

export function decodeReading(source: DecodeSource, ratedAcW: number | undefined): DecodedInverter {
  const { map, image, origin, label } = source;
  const options: DecodeOptions = { sentinels: map.notImplemented === 'sunspec' };
  const errors: RegisterError[] = [];
  const complain = (name: string, detail: string) =>
    errors.push({ map: label, point: name, address: origin + (map.points[name]?.address ?? 0), detail });
  const value = (name: string, scaled = true): number | null => {
    const result = (scaled ? scaledPoint : rawPoint)(map.points, image, name, options);
    if (result.ok) return result.value;
    complain(name, result.error);
    return null;
  };
  const { reading } = map;

  let energy: EnergySample | null = null;
  const wh = value(reading.energyWhTotal);
  if (wh !== null && wh < 0)
    complain(reading.energyWhTotal, `${reading.energyWhTotal} is ${wh} Wh: a counter is never negative (garbage)`);
  else if (wh !== null) {
    energy = { wh };
    // A 32-bit accumulator wraps: keep its raw value and scale factor to extend it (counter.ts).
    const point = map.points[reading.energyWhTotal]!;
    if (point.type === 'acc32') {
      const raw = rawPoint(map.points, image, reading.energyWhTotal, options);
      const sf =
        typeof point.sf === 'string'
          ? rawPoint(map.points, image, point.sf, options)
          : { ok: true as const, value: point.sf ?? 0 };
      if (raw.ok && sf.ok) energy.acc32 = { raw: raw.value, sf: sf.value };
    }
  }

  let acPowerW = value(reading.acPowerW);
  if (acPowerW !== null && ratedAcW !== undefined && acPowerW > ratedAcW * POWER_HEADROOM) {
    complain(
      reading.acPowerW,
      `${reading.acPowerW} is ${acPowerW} W, more than ${POWER_HEADROOM} × the rating of ${ratedAcW} W (garbage)`,
    );
    acPowerW = null;
  }
  // Negative AC power is the inverter's own consumption at night: nothing was exported.
  if (acPowerW !== null) acPowerW = Math.max(0, acPowerW);

  let state: InverterState | null = null;
  const st = value(reading.state.point, false);
  if (st !== null) {
    state = reading.state.values[String(st)] ?? null;
    if (state === null)
      complain(reading.state.point, `${reading.state.point} is ${st}, not a ${map.title} operating state (garbage)`);
  }

  const optional: DecodedInverter['optional'] = {};
  for (const [field, name] of Object.entries(reading.optional ?? {}) as [OptionalField, string][]) {
    const v = value(name);
    if (v === null) continue;
    const { minimum, maximum } = Reading.properties[field] as unknown as { minimum: number; maximum: number };
    if (v < minimum || v > maximum) complain(name, `${name} is ${v}, outside ${minimum}..${maximum} (garbage)`);
    else optional[field] = v;
  }

  const events: string[] = [];
  for (const { point, bits, unnamed } of reading.events ?? []) {
    // An event register that is not implemented just has no events to tell.
    const bitfield = rawPoint(map.points, image, point, options);
    if (!bitfield.ok) continue;
    for (let bit = 0; bit < 32; bit++) {
      if (!(bitfield.value & (2 ** bit))) continue;
      const name = bits[String(bit)] ?? (unnamed ? `${unnamed}${bit}` : `${point.toUpperCase()}_BIT${bit}`);
      events.push(name);
    }
  }

  return { energy, acPowerW, state, optional, events: events.slice(0, MAX_EVENTS), errors };
}

/** The contract's reading, when the counter, power and state are all known. */
export function toReading(
  decoded: Pick<DecodedInverter, 'acPowerW' | 'state' | 'optional' | 'events'>,
  energyWh: number,
  tsMs: number,
): Reading | null {
  if (decoded.acPowerW === null || decoded.state === null) return null;
  const reading: Reading = {
    ts: tsMs,
    energy_wh_total: energyWh,
    ac_power_w: decoded.acPowerW,
    state: decoded.state,
    ...decoded.optional,
  };
  if (decoded.events.length > 0) reading.events = decoded.events;
  return reading;
}
