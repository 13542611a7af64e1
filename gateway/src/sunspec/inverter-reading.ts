// From the registers of an inverter's SunSpec models to the telemetry contract's fields, pure.
// Each point that cannot be trusted is reported with its model, point and register address; a
// reading is only made when the counter, the power and the state are all sound.
import { type InverterState, Reading } from '../../../lib/telemetry/contract';
import {
  DER_INVERTER_STATE_SYMBOLS,
  EVENT_BITS,
  INVERTER_STATE_SYMBOLS,
  type SunSpecModel,
} from '../../../lib/sunspec/models';
import type { EnergySample } from './counter';
import { rawPoint, scaledPoint } from './points';

/** One model's registers as read in ONE request, so each value comes with its own scale factor. */
export interface ModelBlock {
  model: SunSpecModel;
  /** Modbus address of the model's ID register. */
  address: number;
  registers: readonly number[];
}

export interface RegisterError {
  model: number;
  point: string;
  /** Modbus address of the point's first register. */
  address: number;
  detail: string;
}

type OptionalField = 'dc_voltage_v' | 'dc_current_a' | 'ac_voltage_v' | 'ac_frequency_hz' | 'temperature_c';

export interface DecodedInverter {
  energy: EnergySample | null;
  acPowerW: number | null;
  state: InverterState | null;
  optional: Partial<Record<OptionalField, number>>;
  events: string[];
  errors: RegisterError[];
}

/** Where each number comes from: the 101-113 inverter models, or model 701 alone. */
const INVERTER_POINTS: Record<OptionalField, string> = {
  dc_voltage_v: 'DCV',
  dc_current_a: 'DCA',
  ac_voltage_v: 'PhVphA',
  ac_frequency_hz: 'Hz',
  temperature_c: 'TmpCab',
};
const DER_POINTS: Partial<Record<OptionalField, string>> = {
  ac_voltage_v: 'LNV',
  ac_frequency_hz: 'Hz',
  temperature_c: 'TmpCab',
};
/** Instantaneous power may overshoot the rating briefly; far above it, the register is garbage. */
const POWER_HEADROOM = 1.5;
const MAX_EVENTS = 32;

const bitNames = (value: number, names: (bit: number) => string | null): string[] => {
  const out: string[] = [];
  for (let bit = 0; bit < 32; bit++) {
    if (value & (1 << bit)) {
      const name = names(bit);
      if (name) out.push(name);
    }
  }
  return out;
};

/**
 * Decodes an inverter's blocks. The counter is model 701's `TotWhInj` when the device offers 701
 * (64 bits, no wrap), else the inverter model's `WH`; one device always uses the same source, so
 * two counters that disagree are never mixed. Power and state come from the inverter model when
 * present, else from 701.
 */
export function decodeInverter(
  blocks: { inverter?: ModelBlock; der?: ModelBlock },
  ratedAcW: number | undefined,
): DecodedInverter {
  const errors: RegisterError[] = [];
  const pointOf = (block: ModelBlock, name: string, scaled = true): number | null => {
    const result = (scaled ? scaledPoint : rawPoint)(block.model, block.registers, name);
    if (result.ok) return result.value;
    const offset = block.model.points[name]?.offset ?? 0;
    errors.push({ model: block.model.id, point: name, address: block.address + offset, detail: result.error });
    return null;
  };
  const complain = (block: ModelBlock, name: string, detail: string) =>
    errors.push({
      model: block.model.id,
      point: name,
      address: block.address + (block.model.points[name]?.offset ?? 0),
      detail,
    });
  const { inverter, der } = blocks;
  const main = inverter ?? der;
  if (!main) throw new Error('decodeInverter needs an inverter model (101-103, 111-113) or model 701');

  let energy: EnergySample | null = null;
  if (der) {
    const wh = pointOf(der, 'TotWhInj');
    if (wh !== null) energy = { wh };
  } else if (inverter) {
    const wh = pointOf(inverter, 'WH');
    if (wh !== null) {
      const isAcc32 = inverter.model.points.WH?.type === 'acc32';
      const raw = isAcc32 ? rawPoint(inverter.model, inverter.registers, 'WH') : null;
      const sf = isAcc32 ? rawPoint(inverter.model, inverter.registers, 'WH_SF') : null;
      energy = raw?.ok && sf?.ok ? { wh, acc32: { raw: raw.value, sf: sf.value } } : { wh };
      if (wh < 0) {
        complain(inverter, 'WH', `WH is ${wh} Wh: a counter is never negative (garbage)`);
        energy = null;
      }
    }
  }

  let acPowerW = pointOf(main, 'W');
  if (acPowerW !== null && ratedAcW !== undefined && acPowerW > ratedAcW * POWER_HEADROOM) {
    complain(main, 'W', `W is ${acPowerW} W, more than ${POWER_HEADROOM} × the rating of ${ratedAcW} W (garbage)`);
    acPowerW = null;
  }
  // Negative AC power is the inverter's own consumption at night: nothing was exported.
  if (acPowerW !== null) acPowerW = Math.max(0, acPowerW);

  let state: InverterState | null = null;
  const stName = inverter ? 'St' : 'InvSt';
  const st = pointOf(main, stName, false);
  if (st !== null) {
    const symbol = (inverter ? INVERTER_STATE_SYMBOLS : DER_INVERTER_STATE_SYMBOLS)[st];
    if (symbol === undefined) complain(main, stName, `${stName} is ${st}, not a SunSpec operating state (garbage)`);
    else state = (symbol === 'RUNNING' ? 'MPPT' : symbol) as InverterState;
  }

  const optional: DecodedInverter['optional'] = {};
  const sources = inverter ? INVERTER_POINTS : DER_POINTS;
  for (const [field, name] of Object.entries(sources) as [OptionalField, string][]) {
    const value = pointOf(main, name);
    if (value === null) continue;
    const { minimum, maximum } = Reading.properties[field] as unknown as { minimum: number; maximum: number };
    if (value < minimum || value > maximum)
      complain(main, name, `${name} is ${value}, outside ${minimum}..${maximum} (garbage)`);
    else optional[field] = value;
  }

  const events: string[] = [];
  const evtName = inverter ? 'Evt1' : 'Alrm';
  const evt = rawPoint(main.model, main.registers, evtName);
  // An event register that is not implemented just has no events to tell.
  if (evt.ok) events.push(...bitNames(evt.value, (bit) => EVENT_BITS[bit] ?? `${evtName.toUpperCase()}_BIT${bit}`));
  if (inverter)
    for (let k = 1; k <= 4; k++) {
      const vendor = rawPoint(inverter.model, inverter.registers, `EvtVnd${k}`);
      if (vendor.ok) events.push(...bitNames(vendor.value, (bit) => `VENDOR${k}_BIT${bit}`));
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
