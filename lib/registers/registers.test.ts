// The register-map format: the shipped maps are valid, and a map that names a point it does not
// define, reads a point outside its blocks or gives a field the wrong type is refused with an
// error naming where; encoding and decoding agree.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeRaw, encodeScaled, encodeString, scaledPoint, stringPoint } from './codec';
import { parseRegisterMap, type RegisterMap } from './format';
import { HUAWEI_SUN2000 } from './maps/huawei-sun2000';
import { BUILTIN_REGISTER_MAPS, resolveRegisterMap } from './maps/index';
import { SUNSPEC_READING_MAPS } from './sunspec-maps';

const copy = (): RegisterMap => structuredClone(HUAWEI_SUN2000);

describe('register maps', () => {
  it('ships valid maps: SunSpec 101-103, 111-113, 701 and Huawei SUN2000, each naming its source', () => {
    expect([...SUNSPEC_READING_MAPS.keys()]).toEqual([101, 102, 103, 111, 112, 113, 701]);
    expect([...BUILTIN_REGISTER_MAPS.keys()]).toEqual(['huawei-sun2000']);
    expect(HUAWEI_SUN2000.source).toMatch(/Huawei .*MODBUS Interface Definitions/);
    expect(SUNSPEC_READING_MAPS.get(103)!.reading.energyWhTotal).toBe('WH');
    expect(SUNSPEC_READING_MAPS.get(701)!.reading.energyWhTotal).toBe('TotWhInj');
  });

  it.each<[string, (m: RegisterMap) => void, RegExp]>([
    ['a field naming a missing point', (m) => (m.reading.acPowerW = 'Nope'), /\/reading\/acPowerW: no point 'Nope'/],
    [
      'a point outside every block read',
      (m) => (m.points.ActivePower!.address = 32200),
      /point 'ActivePower' \(32200-32201\) lies outside every block/,
    ],
    [
      'a counter that is not a counter type',
      (m) => (m.points.AccumulatedEnergyYield!.type = 'int16'),
      /energyWhTotal: 'AccumulatedEnergyYield' is int16/,
    ],
    [
      'a state that is not the contract’s',
      (m) => (m.reading.state.values['512'] = 'RUNNING' as 'MPPT'),
      /state\/values/,
    ],
    ['a block longer than one Modbus read', (m) => (m.reading.blocks[0]!.count = 126), /blocks\/0\/count/],
    ['a string without its size', (m) => delete m.points.SN!.size, /a string needs its size/],
    [
      'a scale factor that is no sunssf point',
      (m) => (m.points.ActivePower!.sf = 'DeviceStatus'),
      /'DeviceStatus' is not a sunssf point/,
    ],
    ['no source', (m) => (m.source = 'x'), /\/source/],
  ])('refuses %s', (_name, spoil, message) => {
    const map = copy();
    spoil(map);
    expect(() => parseRegisterMap(map, 'test.json')).toThrow(message);
  });

  it('loads a technician’s map file, and names the file and field when it is wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'register-map-'));
    try {
      const good = join(dir, 'good.json');
      writeFileSync(good, JSON.stringify({ ...copy(), id: 'my-inverter' }));
      expect(resolveRegisterMap(good).id).toBe('my-inverter');
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, JSON.stringify({ ...copy(), notImplemented: 'maybe' }));
      expect(() => resolveRegisterMap(bad)).toThrow(`register map ${bad}: /notImplemented`);
      writeFileSync(bad, '{ not json');
      expect(() => resolveRegisterMap(bad)).toThrow(`register map ${bad}:`);
      expect(() => resolveRegisterMap('fronius-x')).toThrow(/not a built-in one \(huawei-sun2000\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('decodes what it encodes: fixed scale factors, signed values, strings', () => {
    const { points } = HUAWEI_SUN2000;
    const image = (name: string, words: number[]) => ({ base: points[name]!.address, words });
    const sentinels = { sentinels: true };
    const energy = encodeScaled(points.AccumulatedEnergyYield!, 1_234_567.9, 1, true);
    expect(scaledPoint(points, image('AccumulatedEnergyYield', energy), 'AccumulatedEnergyYield', sentinels)).toEqual({
      ok: true,
      value: 1_234_560, // 0.01 kWh resolution, never rounded up
    });
    const temperature = encodeScaled(points.InternalTemperature!, -12.3, -1);
    expect(scaledPoint(points, image('InternalTemperature', temperature), 'InternalTemperature', sentinels)).toEqual({
      ok: true,
      value: -12.3,
    });
    expect(encodeRaw(points.ActivePower!, -15)).toEqual([0xffff, 0xfff1]);
    const sn = encodeString(points.SN!, 'HV2150123456');
    expect(stringPoint(points, image('SN', sn), 'SN')).toEqual({ ok: true, text: 'HV2150123456' });
    expect(
      scaledPoint(points, image('AccumulatedEnergyYield', [0xffff, 0xffff]), 'AccumulatedEnergyYield', sentinels),
    ).toEqual({ ok: false, error: 'AccumulatedEnergyYield reads 0xFFFFFFFF: not implemented by the device' });
  });
});
