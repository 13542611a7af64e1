// SunSpec's inverter models in the register-map format: the points are the models' own layouts
// (lib/sunspec/models.ts), addressed from the model's ID register (discovery finds where it is);
// which point feeds which contract field, the states and the event bits are the data below. The
// gateway reads a SunSpec device and a vendor-map device with the same interpreter.
import {
  DER_INVERTER_STATE_SYMBOLS,
  EVENT_BITS,
  INVERTER_STATE_SYMBOLS,
  SUNSPEC_MODELS,
  type SunSpecModel,
} from '../sunspec/models';
import type { InverterState } from '../telemetry/contract';
import { parseRegisterMap, type RegisterMap, type RegisterPoint } from './format';

/** Modbus allows 125 registers per read: a longer model is read from its start (701's points used lie there). */
const MAX_READ = 125;

/** A SunSpec model's points in the register-map format, addressed from the model's ID register. */
export const sunspecPoints = (model: SunSpecModel): Record<string, RegisterPoint> =>
  Object.fromEntries(
    Object.values(model.points).map(({ name, type, size, sf, offset }) => [
      name,
      { address: offset, type, ...(type === 'string' ? { size } : {}), ...(sf ? { sf } : {}) },
    ]),
  );

const states = (symbols: Readonly<Record<number, string>>): Record<string, InverterState> =>
  Object.fromEntries(
    Object.entries(symbols).map(([raw, symbol]) => [raw, (symbol === 'RUNNING' ? 'MPPT' : symbol) as InverterState]),
  );
const eventBits = Object.fromEntries(EVENT_BITS.map((name, bit) => [String(bit), name]));

function sunspecMap(id: number): RegisterMap {
  const model = SUNSPEC_MODELS.get(id)!;
  const der = id === 701;
  const vendorEvents = [1, 2, 3, 4].map((k) => ({ point: `EvtVnd${k}`, bits: {}, unnamed: `VENDOR${k}_BIT` }));
  return parseRegisterMap(
    {
      id: `sunspec-${id}`,
      title: 'SunSpec',
      source: `SunSpec model ${id} (${model.name}), sunspec/models json/model_${id}.json; fields per gateway/README.md`,
      notImplemented: 'sunspec',
      reading: {
        blocks: [{ address: 0, count: Math.min(model.length + 2, MAX_READ) }],
        energyWhTotal: der ? 'TotWhInj' : 'WH',
        acPowerW: 'W',
        state: der
          ? { point: 'InvSt', values: states(DER_INVERTER_STATE_SYMBOLS) }
          : { point: 'St', values: states(INVERTER_STATE_SYMBOLS) },
        events: der
          ? [{ point: 'Alrm', bits: eventBits, unnamed: 'ALRM_BIT' }]
          : [{ point: 'Evt1', bits: eventBits, unnamed: 'EVT1_BIT' }, ...vendorEvents],
        optional: der
          ? { ac_voltage_v: 'LNV', ac_frequency_hz: 'Hz', temperature_c: 'TmpCab' }
          : {
              dc_voltage_v: 'DCV',
              dc_current_a: 'DCA',
              ac_voltage_v: 'PhVphA',
              ac_frequency_hz: 'Hz',
              temperature_c: 'TmpCab',
            },
      },
      points: sunspecPoints(model),
    },
    `sunspec-${id}`,
  );
}

/** The inverter models the gateway reads (101-103, 111-113, 701), by model ID. */
export const SUNSPEC_READING_MAPS: ReadonlyMap<number, RegisterMap> = new Map(
  [101, 102, 103, 111, 112, 113, 701].map((id) => [id, sunspecMap(id)]),
);
