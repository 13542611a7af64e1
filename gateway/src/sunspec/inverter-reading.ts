// From the registers of an inverter's SunSpec models to the telemetry contract's fields: the
// models are register maps (lib/registers/sunspec-maps.ts) read by the one interpreter
// (../registers/decode.ts); what is SunSpec's own is which model gives the counter.
import { SUNSPEC_READING_MAPS } from '../../../lib/registers/sunspec-maps';
import type { SunSpecModel } from '../../../lib/sunspec/models';
import { type DecodedInverter, decodeReading } from '../registers/decode';

/** One model's registers as read in ONE request, so each value comes with its own scale factor. */
export interface ModelBlock {
  model: SunSpecModel;
  /** Modbus address of the model's ID register. */
  address: number;
  registers: readonly number[];
}

function decodeBlock(block: ModelBlock, ratedAcW: number | undefined): DecodedInverter {
  const map = SUNSPEC_READING_MAPS.get(block.model.id);
  if (!map) throw new Error(`model ${block.model.id} is not an inverter model the gateway reads`);
  const source = {
    map,
    image: { base: 0, words: block.registers },
    origin: block.address,
    label: `model ${block.model.id}`,
  };
  return decodeReading(source, ratedAcW);
}

/**
 * Decodes an inverter's blocks. The counter is model 701's `TotWhInj` when the device offers 701
 * (64 bits, no wrap), else the inverter model's `WH`; one device always uses the same source, so
 * two counters that disagree are never mixed. Power, state and the rest come from the inverter
 * model when present, else from 701.
 */
export function decodeInverter(
  blocks: { inverter?: ModelBlock; der?: ModelBlock },
  ratedAcW: number | undefined,
): DecodedInverter {
  const { inverter, der } = blocks;
  const main = inverter ?? der;
  if (!main) throw new Error('decodeInverter needs an inverter model (101-103, 111-113) or model 701');
  const decoded = decodeBlock(main, ratedAcW);
  if (!inverter || !der) return decoded;
  const counter = decodeBlock(der, ratedAcW);
  const energyPoint = (block: ModelBlock) => SUNSPEC_READING_MAPS.get(block.model.id)!.reading.energyWhTotal;
  return {
    ...decoded,
    energy: counter.energy,
    errors: [
      ...decoded.errors.filter((e) => e.point !== energyPoint(inverter)),
      ...counter.errors.filter((e) => e.point === energyPoint(der)),
    ],
  };
}
