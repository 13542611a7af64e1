// A vendor's register map read by the gateway's interpreter: the simulator's Huawei SUN2000 device
// (the same map, written) read back field by field, and the map's edge cases: its status codes,
// alarm bits, a register the model does not have, a garbage status, a device that is not one.
import { describe, expect, it } from 'vitest';
import { HUAWEI_SUN2000 } from '../../../lib/registers/maps/huawei-sun2000';
import type { Reading } from '../../../lib/telemetry/contract';
import { MapDevice } from '../../../simulators/index';
import { InverterPoller, openDevice } from '../inverter-poller';
import type { RegisterReader } from '../sunspec/discover';
import { toReading } from './decode';
import { identifyByMap, readByMap } from './vendor-device';

const READING: Reading = {
  ts: 0,
  energy_wh_total: 8_765_432.7,
  ac_power_w: 4210,
  state: 'MPPT',
  dc_voltage_v: 412.5,
  dc_current_a: 10.42,
  ac_voltage_v: 231.4,
  ac_frequency_hz: 50.02,
  temperature_c: 41.3,
};

function huawei(reading: Partial<Reading> = {}) {
  const device = new MapDevice(HUAWEI_SUN2000, { serial: 'HV2150123456', ratedAcW: 5000, model: 'SUN2000-5KTL-L1' });
  device.update({ ...READING, ...reading });
  const reader: RegisterReader = { readHoldingRegisters: async (address, count) => device.read(address, count) };
  return { device, reader };
}

describe('a Huawei SUN2000 through its register map', () => {
  it('identifies the device: serial, model and rating from the 30000 block', async () => {
    const { reader } = huawei();
    expect(await identifyByMap(reader, HUAWEI_SUN2000)).toEqual({
      manufacturer: 'Huawei',
      model: 'SUN2000-5KTL-L1',
      serial: 'HV2150123456',
      version: null,
      ratedAcW: 5000,
    });
  });

  it('reads every field as the device shows it (energy in 10 Wh steps, never rounded up)', async () => {
    const { reader } = huawei();
    const decoded = await readByMap(reader, HUAWEI_SUN2000, 5000);
    expect(decoded.errors).toEqual([]);
    expect(toReading(decoded, decoded.energy!.wh, 1)).toEqual({
      ...READING,
      ts: 1,
      energy_wh_total: 8_765_430,
    });
  });

  it.each<[string, Partial<Reading>, string]>([
    ['asleep at night', { state: 'SLEEPING', ac_power_w: 0 }, 'SLEEPING'],
    ['throttled', { state: 'THROTTLED' }, 'THROTTLED'],
    ['a fault', { state: 'FAULT', events: ['GROUND_FAULT'] }, 'FAULT'],
  ])('state: %s', async (_name, reading, state) => {
    const { reader } = huawei(reading);
    const decoded = await readByMap(reader, HUAWEI_SUN2000, 5000);
    expect(decoded.state).toBe(state);
    expect(decoded.events).toEqual(reading.events ?? []);
  });

  it.each<[string, string, number[], RegExp, keyof ReturnType<typeof fieldsOf>]>([
    [
      'a status code not in the table',
      'DeviceStatus',
      [0x0777],
      /DeviceStatus is 1911, not a Huawei SUN2000 operating state/,
      'state',
    ],
    [
      'energy the model does not have (0xFFFFFFFF)',
      'AccumulatedEnergyYield',
      [0xffff, 0xffff],
      /0xFFFFFFFF: not implemented/,
      'energy',
    ],
    ['power above 1.5 × the rating', 'ActivePower', [0, 9000], /ActivePower is 9000 W, more than 1.5/, 'acPowerW'],
    [
      'a temperature no inverter has',
      'InternalTemperature',
      [5000],
      /InternalTemperature is 500, outside/,
      'temperature',
    ],
  ])('%s: an error naming the register, no value', async (_name, point, words, message, field) => {
    const { device, reader } = huawei();
    device.poke(point, words);
    const decoded = await readByMap(reader, HUAWEI_SUN2000, 5000);
    const error = decoded.errors.find((e) => e.point === point);
    expect(error?.detail).toMatch(message);
    expect(error?.address).toBe(HUAWEI_SUN2000.points[point]!.address);
    expect(fieldsOf(decoded)[field]).toBeNull();
  });

  it('names alarm bits: SunSpec-like names where they mean the same, the vendor’s bit otherwise', async () => {
    const { device, reader } = huawei();
    device.poke('Alarm1', [1 << 1]);
    device.poke('Alarm2', [(1 << 2) | (1 << 9)]);
    device.poke('Alarm3', [1 << 4]);
    const decoded = await readByMap(reader, HUAWEI_SUN2000, 5000);
    expect(decoded.events).toEqual(['ARC_FAULT', 'ISOLATION_FAULT', 'HUAWEI_ALARM2_BIT9', 'HUAWEI_ALARM3_BIT4']);
  });

  it('polls it like any inverter (counter checks included) and refuses another device', async () => {
    const { device, reader } = huawei();
    const poller = new InverterPoller({ serial: 'HV2150123456', unitId: 1 }, reader, {}, HUAWEI_SUN2000);
    expect((await poller.poll(1000, 1000)).reading?.energy_wh_total).toBe(8_765_430);
    device.poke('AccumulatedEnergyYield', [0x7fff, 0]); // a jump no 5 kW inverter makes in 10 s
    const garbage = await poller.poll(11_000, 11_000);
    expect(garbage.reading).toBeNull();
    expect(garbage.errors.join()).toMatch(/held until the next read confirms it/);
    const other = new InverterPoller({ serial: 'HV-OTHER', unitId: 1 }, reader, {}, HUAWEI_SUN2000);
    expect((await other.poll(0, 0)).errors[0]).toMatch(/reports serial 'HV2150123456', not 'HV-OTHER'/);
    expect((await openDevice(reader, HUAWEI_SUN2000)).how).toBe('register map huawei-sun2000');
    // A SunSpec device read as a Huawei has no 30000 table: a clear error, not a reading.
    const sunspecOnly: RegisterReader = {
      readHoldingRegisters: async (address) => {
        throw new Error(`illegal data address ${address}`);
      },
    };
    await expect(identifyByMap(sunspecOnly, HUAWEI_SUN2000)).rejects.toThrow(/illegal data address 30000/);
  });
});

const fieldsOf = (d: Awaited<ReturnType<typeof readByMap>>) => ({
  state: d.state,
  energy: d.energy,
  acPowerW: d.acPowerW,
  temperature: d.optional.temperature_c ?? null,
});
