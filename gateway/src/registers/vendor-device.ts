// An inverter read through a vendor's register map (no SunSpec): its identity from the map's
// identity blocks, once, and on each poll the map's reading blocks, one request each.
import { type RegisterImage, scaledPoint, stringPoint } from '../../../lib/registers/codec';
import type { RegisterMap } from '../../../lib/registers/format';
import type { Identity, RegisterReader } from '../sunspec/discover';
import { type DecodedInverter, decodeReading } from './decode';

/** The blocks' registers as one image (a register between blocks is "not read"). */
async function readBlocks(
  reader: RegisterReader,
  blocks: readonly { address: number; count: number }[],
): Promise<RegisterImage> {
  const base = Math.min(...blocks.map((b) => b.address));
  const words: (number | undefined)[] = [];
  for (const block of blocks) {
    const registers = await reader.readHoldingRegisters(block.address, block.count);
    registers.slice(0, block.count).forEach((word, i) => {
      words[block.address - base + i] = word;
    });
  }
  return { base, words };
}

export async function identifyByMap(reader: RegisterReader, map: RegisterMap): Promise<Identity> {
  const { identity } = map;
  if (!identity) throw new Error(`register map ${map.id} has no identity blocks: it cannot tell which device it reads`);
  const image = await readBlocks(reader, identity.blocks);
  const serial = stringPoint(map.points, image, identity.serial);
  if (!serial.ok) throw new Error(`${map.title}: no serial number (${serial.error}): is this a ${map.title}?`);
  const model = identity.model ? stringPoint(map.points, image, identity.model) : null;
  const rating = identity.ratedAcW
    ? scaledPoint(map.points, image, identity.ratedAcW, { sentinels: map.notImplemented === 'sunspec' })
    : null;
  return {
    manufacturer: identity.manufacturer,
    model: model?.ok ? model.text : '',
    serial: serial.text,
    version: null,
    ratedAcW: rating?.ok && rating.value > 0 ? rating.value : null,
  };
}

export async function readByMap(
  reader: RegisterReader,
  map: RegisterMap,
  ratedAcW: number | undefined,
): Promise<DecodedInverter> {
  const image = await readBlocks(reader, map.reading.blocks);
  return decodeReading({ map, image, origin: 0, label: map.id }, ratedAcW);
}
