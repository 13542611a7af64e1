// The register edge cases (gateway/README.md lists them): each row is one device behaviour and
// what the gateway must make of it. A sentinel, a bad scale factor or a garbage register gives an
// error naming the point, never a number; the energy counter is published only when sound.
import { describe, expect, it } from 'vitest';
import { SUNSPEC_MODELS } from '../../../lib/sunspec/models';
import { advanceCounter, type CounterState, type EnergySample } from './counter';
import { discoverSunSpec, identify, pollPlan, type RegisterReader } from './discover';
import { toReading } from '../registers/decode';
import { decodeInverter, type ModelBlock } from './inverter-reading';

const u16 = (v: number) => [v & 0xffff];
const u32 = (v: number) => [Math.floor(v / 0x10000) & 0xffff, v & 0xffff];
const u64 = (v: bigint) => [48n, 32n, 16n, 0n].map((s) => Number((v >> s) & 0xffffn));
const f32 = (v: number) => {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, v);
  return [view.getUint16(0), view.getUint16(2)];
};

function block(id: number, points: Record<string, number[]>, address = 40070): ModelBlock {
  const model = SUNSPEC_MODELS.get(id)!;
  const registers = new Array<number>(model.length + 2).fill(0);
  registers[0] = id;
  registers[1] = model.length;
  for (const [name, words] of Object.entries(points)) {
    const point = model.points[name]!;
    words.forEach((w, i) => {
      registers[point.offset + i] = w;
    });
  }
  return { model, address, registers };
}

const INT_INVERTER: Record<string, number[]> = {
  W: u16(2500),
  W_SF: u16(0),
  WH: u32(1_234_567),
  WH_SF: u16(0),
  St: u16(4),
  Evt1: u32(0),
  EvtVnd1: u32(0),
  EvtVnd2: u32(0),
  EvtVnd3: u32(0),
  EvtVnd4: u32(0),
  DCV: u16(380),
  DCV_SF: u16(0),
  DCA: u16(66),
  DCA_SF: u16(-1),
  PhVphA: u16(2301),
  V_SF: u16(-1),
  Hz: u16(5001),
  Hz_SF: u16(-2),
  TmpCab: u16(35),
  Tmp_SF: u16(0),
};
const FLOAT_INVERTER: Record<string, number[]> = {
  W: f32(2500.5),
  WH: f32(1_234_567),
  St: u16(4),
  Evt1: u32(0),
  DCV: f32(380),
  DCA: f32(6.6),
  PhVphA: f32(230.1),
  Hz: f32(50),
  TmpCab: f32(35),
};
const DER_701: Record<string, number[]> = {
  W: u16(2500),
  W_SF: u16(0),
  InvSt: u16(3),
  Alrm: u32(0),
  TotWhInj: u64(1_234_567n),
  TotWh_SF: u16(0),
  LNV: u16(230),
  V_SF: u16(0),
  Hz: u32(50_000),
  Hz_SF: u16(-3),
  TmpCab: u16(35),
  Tmp_SF: u16(0),
};

interface Case {
  name: string;
  model: 103 | 113 | 701;
  set?: Record<string, number[]>;
  rated?: number;
  energyWh?: number | null;
  acPowerW?: number | null;
  state?: string | null;
  events?: string[];
  field?: [string, number | undefined];
  error?: [point: string, detail: RegExp];
}

const CASES: Case[] = [
  { name: 'a healthy integer inverter', model: 103, energyWh: 1_234_567, acPowerW: 2500, state: 'MPPT', events: [] },
  { name: 'negative scale factors', model: 103, field: ['ac_voltage_v', 230.1] },
  { name: 'a -2 scale factor', model: 103, field: ['ac_frequency_hz', 50.01] },
  { name: 'a positive scale factor on power', model: 103, set: { W: u16(25), W_SF: u16(2) }, acPowerW: 2500 },
  { name: 'a positive scale factor on energy', model: 103, set: { WH: u32(1234), WH_SF: u16(3) }, energyWh: 1_234_000 },
  {
    name: 'a negative scale factor on energy',
    model: 103,
    set: { WH: u32(12_345_675), WH_SF: u16(-1) },
    energyWh: 1_234_567.5,
  },
  {
    name: 'power not implemented (int16 0x8000)',
    model: 103,
    set: { W: u16(0x8000) },
    acPowerW: null,
    error: ['W', /0x8000: not implemented/],
  },
  {
    name: 'power at 0x7FFF (vendor "not available")',
    model: 103,
    set: { W: u16(0x7fff) },
    acPowerW: null,
    error: ['W', /0x7FFF/],
  },
  {
    name: 'power scale factor not implemented',
    model: 103,
    set: { W_SF: u16(0x8000) },
    acPowerW: null,
    error: ['W', /scale factor W_SF reads 0x8000/],
  },
  {
    name: 'power scale factor out of range',
    model: 103,
    set: { W_SF: u16(11) },
    acPowerW: null,
    error: ['W', /outside -10..10/],
  },
  {
    name: 'power above 1.5 × the rating',
    model: 103,
    rated: 5000,
    set: { W: u16(9000) },
    acPowerW: null,
    error: ['W', /more than 1.5/],
  },
  { name: 'negative power at night', model: 103, set: { W: u16(-15) }, acPowerW: 0 },
  {
    name: 'energy not accumulated (acc32 0)',
    model: 103,
    set: { WH: u32(0) },
    energyWh: null,
    error: ['WH', /0x00000000: not implemented/],
  },
  {
    name: 'energy scale factor not implemented',
    model: 103,
    set: { WH_SF: u16(0x8000) },
    energyWh: null,
    error: ['WH', /scale factor/],
  },
  {
    name: 'energy scale factor garbage',
    model: 103,
    set: { WH_SF: u16(0x1234) },
    energyWh: null,
    error: ['WH', /outside -10..10/],
  },
  {
    name: 'state not implemented (enum16 0xFFFF)',
    model: 103,
    set: { St: u16(0xffff) },
    state: null,
    error: ['St', /0xFFFF/],
  },
  {
    name: 'state garbage',
    model: 103,
    set: { St: u16(42) },
    state: null,
    error: ['St', /42, not a SunSpec operating state/],
  },
  { name: 'state THROTTLED', model: 103, set: { St: u16(5) }, state: 'THROTTLED' },
  { name: 'standard event bits', model: 103, set: { Evt1: u32(0b1000_0001) }, events: ['GROUND_FAULT', 'OVER_TEMP'] },
  { name: 'events not implemented (bitfield32 0xFFFFFFFF)', model: 103, set: { Evt1: u32(0xffffffff) }, events: [] },
  { name: 'a vendor event bit', model: 103, set: { EvtVnd2: u32(1 << 3) }, events: ['VENDOR2_BIT3'] },
  {
    name: 'frequency not implemented (uint16 0xFFFF): reading kept',
    model: 103,
    set: { Hz: u16(0xffff) },
    acPowerW: 2500,
    field: ['ac_frequency_hz', undefined],
    error: ['Hz', /0xFFFF/],
  },
  {
    name: 'temperature garbage: reading kept',
    model: 103,
    set: { TmpCab: u16(500) },
    acPowerW: 2500,
    field: ['temperature_c', undefined],
    error: ['TmpCab', /outside -60..150/],
  },
  { name: 'a healthy float inverter', model: 113, energyWh: 1_234_567, acPowerW: 2500.5, state: 'MPPT' },
  {
    name: 'float energy NaN (not implemented)',
    model: 113,
    set: { WH: [0x7fc0, 0] },
    energyWh: null,
    error: ['WH', /not implemented or not a number/],
  },
  {
    name: 'float energy infinite',
    model: 113,
    set: { WH: f32(Number.POSITIVE_INFINITY) },
    energyWh: null,
    error: ['WH', /Infinity/],
  },
  { name: 'float energy negative', model: 113, set: { WH: f32(-5) }, energyWh: null, error: ['WH', /never negative/] },
  {
    name: 'model 701 alone',
    model: 701,
    energyWh: 1_234_567,
    acPowerW: 2500,
    state: 'MPPT',
    field: ['ac_frequency_hz', 50],
  },
  { name: '701 64-bit counter beyond 32 bits', model: 701, set: { TotWhInj: u64(2n ** 40n) }, energyWh: 2 ** 40 },
  {
    name: '701 counter not implemented (uint64 all ones)',
    model: 701,
    set: { TotWhInj: u64(2n ** 64n - 1n) },
    energyWh: null,
    error: ['TotWhInj', /0xFFFFFFFFFFFFFFFF/],
  },
  {
    name: '701 counter beyond 2^53',
    model: 701,
    set: { TotWhInj: u64(2n ** 60n) },
    energyWh: null,
    error: ['TotWhInj', /beyond 2\^53/],
  },
  {
    name: '701 frequency not implemented (uint32 0xFFFFFFFF)',
    model: 701,
    set: { Hz: u32(0xffffffff) },
    error: ['Hz', /0xFFFFFFFF/],
  },
  { name: '701 manufacturer alarm bit', model: 701, set: { Alrm: u32(1 << 16) }, events: ['MANUFACTURER_ALRM'] },
  {
    name: '701 state garbage',
    model: 701,
    set: { InvSt: u16(9) },
    state: null,
    error: ['InvSt', /not a SunSpec operating state/],
  },
];

describe('decoding an inverter model, edge by edge', () => {
  it.each(CASES)('$name', (c) => {
    const base = c.model === 103 ? INT_INVERTER : c.model === 113 ? FLOAT_INVERTER : DER_701;
    const b = block(c.model, { ...base, ...c.set });
    const decoded = decodeInverter(c.model === 701 ? { der: b } : { inverter: b }, c.rated);
    if (c.energyWh !== undefined) expect(decoded.energy?.wh ?? null).toBe(c.energyWh);
    if (c.acPowerW !== undefined) expect(decoded.acPowerW).toBe(c.acPowerW);
    if (c.state !== undefined) expect(decoded.state).toBe(c.state);
    if (c.events) expect(decoded.events).toEqual(c.events);
    if (c.field) expect((decoded.optional as Record<string, number>)[c.field[0]]).toBe(c.field[1]);
    if (c.error) {
      const error = decoded.errors.find((e) => e.point === c.error![0]);
      expect(error?.detail).toMatch(c.error[1]);
      expect(error?.address).toBe(40070 + b.model.points[c.error[0]]!.offset);
    } else expect(decoded.errors).toEqual([]);
    // No reading without a counter, a power and a state.
    const reading = decoded.energy ? toReading(decoded, decoded.energy.wh, Date.UTC(2026, 5, 1)) : null;
    if (decoded.energy && decoded.acPowerW !== null && decoded.state !== null) expect(reading).not.toBeNull();
    else expect(reading).toBeNull();
  });

  it('a short read names the registers that were not read', () => {
    const b = block(103, INT_INVERTER);
    const short = { ...b, registers: b.registers.slice(0, 20) };
    const decoded = decodeInverter({ inverter: short }, undefined);
    expect(decoded.energy).toBeNull();
    expect(decoded.errors.find((e) => e.point === 'WH')?.detail).toMatch(/registers 24-25 were not read/);
  });

  it('keeps the 32-bit accumulator raw and scale for wrap tracking', () => {
    const decoded = decodeInverter(
      { inverter: block(103, { ...INT_INVERTER, WH_SF: u16(1), WH: u32(70) }) },
      undefined,
    );
    expect(decoded.energy).toEqual({ wh: 700, acc32: { raw: 70, sf: 1 } });
  });
});

const T0 = 1_000_000;
const S = 10_000; // 10 s between reads
type Step = [sample: EnergySample, publish: number | null, match?: RegExp];

const COUNTER_CASES: { name: string; rated?: number; steps: Step[] }[] = [
  {
    name: 'a rising counter',
    rated: 5000,
    steps: [
      [{ wh: 1000 }, 1000],
      [{ wh: 1010 }, 1010],
      [{ wh: 1010 }, 1010],
    ],
  },
  {
    name: 'a 32-bit accumulator wrapping',
    rated: 5000,
    steps: [
      [{ wh: 4_294_967_290, acc32: { raw: 4_294_967_290, sf: 0 } }, 4_294_967_290],
      [{ wh: 3, acc32: { raw: 3, sf: 0 } }, 4_294_967_299],
      [{ wh: 10, acc32: { raw: 10, sf: 0 } }, 4_294_967_306],
    ],
  },
  {
    name: 'a wrap with a scale factor of 1',
    steps: [
      [{ wh: 42_949_672_900, acc32: { raw: 4_294_967_290, sf: 1 } }, 42_949_672_900],
      [{ wh: 30, acc32: { raw: 3, sf: 1 } }, 42_949_672_990],
    ],
  },
  {
    name: 'the scale factor changing between reads (same counter, rescaled)',
    rated: 5000,
    steps: [
      [{ wh: 1_234_560, acc32: { raw: 1_234_560, sf: 0 } }, 1_234_560],
      [{ wh: 1_234_570, acc32: { raw: 123_457, sf: 1 } }, 1_234_570],
    ],
  },
  {
    name: 'one garbage read far above what the rating allows: held, then dropped',
    rated: 5000,
    steps: [
      [{ wh: 1000 }, 1000],
      [{ wh: 9_000_000 }, null, /rose 8999000 Wh in 10 s, more than 5000 W/],
      [{ wh: 1020 }, 1020],
    ],
  },
  {
    name: 'a garbage read that looks like a wrap',
    rated: 5000,
    steps: [
      [{ wh: 3_000_000_000, acc32: { raw: 3_000_000_000, sf: 0 } }, 3_000_000_000],
      [{ wh: 5, acc32: { raw: 5, sf: 0 } }, null, /more than 5000 W/],
      [{ wh: 3_000_000_010, acc32: { raw: 3_000_000_010, sf: 0 } }, 3_000_000_010],
    ],
  },
  {
    name: 'a counter reset confirmed by the next read',
    rated: 5000,
    steps: [
      [{ wh: 500_000 }, 500_000],
      [{ wh: 10 }, null, /went back from 500000 to 10 Wh/],
      [{ wh: 20 }, 20],
    ],
  },
  {
    name: 'a read that is not a number',
    steps: [
      [{ wh: 100 }, 100],
      [{ wh: Number.NaN }, null, /not a counter/],
      [{ wh: 110 }, 110],
    ],
  },
];

describe('the published energy counter', () => {
  it.each(COUNTER_CASES)('$name', ({ steps, rated }) => {
    let state: CounterState = {};
    steps.forEach(([sample, publish, match], i) => {
      const outcome = advanceCounter(state, sample, T0 + i * S, rated);
      state = outcome.state;
      if (publish === null) {
        expect(outcome.publish, `step ${i}`).toBe(false);
        if (!outcome.publish && match) expect(outcome.error).toMatch(match);
      } else {
        expect(outcome.publish, `step ${i}`).toBe(true);
        if (outcome.publish) expect(outcome.wh).toBe(publish);
      }
    });
  });
});

/** A device's holding registers; unmapped addresses answer with an illegal-address exception. */
function fakeDevice(map: Map<number, number>): RegisterReader {
  return {
    async readHoldingRegisters(address, count) {
      const out: number[] = [];
      for (let a = address; a < address + count; a++) {
        const v = map.get(a);
        if (v === undefined) throw new Error('Modbus exception 2: Illegal data address');
        out.push(v);
      }
      return out;
    },
  };
}
function deviceAt(base: number, models: ModelBlock[], end = true): Map<number, number> {
  const map = new Map<number, number>([
    [base, 0x5375],
    [base + 1, 0x6e53],
  ]);
  let address = base + 2;
  for (const m of models) {
    m.registers.forEach((w, i) => {
      map.set(address + i, w);
    });
    address += m.registers.length;
  }
  if (end) {
    map.set(address, 0xffff);
    map.set(address + 1, 0);
  }
  return map;
}
const ascii = (text: string, registers: number) => {
  const bytes = Buffer.alloc(registers * 2);
  bytes.write(text);
  return Array.from({ length: registers }, (_, i) => bytes.readUInt16BE(i * 2));
};
const common = () => block(1, { Mn: ascii('SunSpecSim', 16), Md: ascii('SIM-5K', 16), SN: ascii('INV-0001', 16) });
const nameplate = () => block(120, { WRtg: u16(500), WRtg_SF: u16(1) });

describe('finding the SunSpec map', () => {
  for (const base of [40000, 50000, 0])
    it(`finds SunS at ${base} and walks the chain`, async () => {
      const device = fakeDevice(deviceAt(base, [common(), nameplate(), block(103, INT_INVERTER)]));
      const map = await discoverSunSpec(device);
      expect(map.base).toBe(base);
      expect(map.models.map((m) => [m.id, m.address - base])).toEqual([
        [1, 2],
        [120, 2 + 68],
        [103, 2 + 68 + 28],
      ]);
      expect(pollPlan(map).inverter?.id).toBe(103);
      expect(await identify(device, map)).toEqual({
        manufacturer: 'SunSpecSim',
        model: 'SIM-5K',
        serial: 'INV-0001',
        version: null,
        ratedAcW: 5000,
      });
    });

  it('ends a chain without an end marker at the first unreadable header', async () => {
    const map = await discoverSunSpec(fakeDevice(deviceAt(40000, [common(), block(701, DER_701)], false)));
    expect(map.models.map((m) => m.id)).toEqual([1, 701]);
    expect(pollPlan(map)).toEqual({ der: map.models[1] });
  });

  it('says what to check when no base has the marker', async () => {
    await expect(
      discoverSunSpec(
        fakeDevice(
          new Map([
            [40000, 1],
            [40001, 2],
          ]),
        ),
      ),
    ).rejects.toThrow(/not a SunSpec device \(40000: no SunS marker; 50000: Modbus exception 2.*Modbus TCP is enabled/);
  });

  it('refuses a model that claims registers past the address space, and a map without an inverter', async () => {
    const map = deviceAt(40000, []);
    map.set(40002, 103);
    map.set(40003, 30000);
    await expect(discoverSunSpec(fakeDevice(map))).rejects.toThrow(/past the end of the address space/);
    const noInverter = await discoverSunSpec(fakeDevice(deviceAt(40000, [common()])));
    expect(() => pollPlan(noInverter)).toThrow(/no inverter model .* it has 1/);
  });

  it('refuses an inverter model shorter than SunSpec defines', async () => {
    const map = deviceAt(40000, [common()]);
    map.set(40070, 103);
    map.set(40071, 20);
    await expect(discoverSunSpec(fakeDevice(map))).rejects.toThrow(
      /model 103 at 40070 has length 20, the model needs 50/,
    );
  });
});
