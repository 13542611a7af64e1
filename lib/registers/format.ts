// The declarative register map: how an inverter's Modbus registers become the telemetry contract's
// fields, as data the gateway interprets (and the simulator serves). SunSpec's inverter models are
// expressed in it (`sunspec-maps.ts`, addresses counted from the model's ID register, found by
// discovery), and so is each vendor map for inverters without SunSpec (`maps/`, fixed addresses).
// A map is checked against the schema and for consistency (every point it names exists, lies in a
// block that is read, and has a type its field can take) before it is used: a technician's own map
// file gets an error naming the field, not a wrong reading.
import { readFileSync } from 'node:fs';
import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { INVERTER_STATES } from '../telemetry/contract';

/** SunSpec's register types (the same names vendors' tables use, as U16/I32/STR...). */
export const REGISTER_TYPES = [
  'int16',
  'uint16',
  'enum16',
  'bitfield16',
  'sunssf',
  'pad',
  'int32',
  'uint32',
  'acc32',
  'bitfield32',
  'float32',
  'uint64',
  'acc64',
  'string',
] as const;
export type RegisterType = (typeof REGISTER_TYPES)[number];
/** Registers per type (a string's size is the point's own). */
export const TYPE_SIZE: Record<Exclude<RegisterType, 'string'>, number> = {
  int16: 1,
  uint16: 1,
  enum16: 1,
  bitfield16: 1,
  sunssf: 1,
  pad: 1,
  int32: 2,
  uint32: 2,
  acc32: 2,
  bitfield32: 2,
  float32: 2,
  uint64: 4,
  acc64: 4,
};
const NUMERIC: readonly RegisterType[] = ['int16', 'uint16', 'int32', 'uint32', 'acc32', 'float32', 'uint64', 'acc64'];
const COUNTER: readonly RegisterType[] = ['uint32', 'acc32', 'float32', 'uint64', 'acc64'];

const Point = Type.Object(
  {
    /** Modbus address of the point's first register (a SunSpec map: registers from the model's ID). */
    address: Type.Integer({ minimum: 0, maximum: 65535 }),
    type: Type.Union(REGISTER_TYPES.map((t) => Type.Literal(t))),
    /** Registers; only strings need it. */
    size: Type.Optional(Type.Integer({ minimum: 1, maximum: 125 })),
    /**
     * Power of ten that turns the raw value into the contract field's unit (Wh, W, V, A, Hz, °C):
     * a fixed number (a vendor's "gain 100 kWh" counter is 10 Wh per unit: 1), or the name of a
     * `sunssf` point the device reports it in (SunSpec).
     */
    sf: Type.Optional(Type.Union([Type.Integer({ minimum: -10, maximum: 10 }), Type.String({ minLength: 1 })])),
    /** What the vendor's table calls it, unit and gain as documented. */
    doc: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type RegisterPoint = Static<typeof Point>;

const Block = Type.Object(
  {
    address: Type.Integer({ minimum: 0, maximum: 65535 }),
    /** Modbus reads at most 125 registers at a time. */
    count: Type.Integer({ minimum: 1, maximum: 125 }),
  },
  { additionalProperties: false },
);
const PointName = Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$' });
const EventName = Type.String({ pattern: '^[A-Z][A-Z0-9_]{0,63}$' });
const State = Type.Union(INVERTER_STATES.map((s) => Type.Literal(s)));

export const OPTIONAL_FIELDS = [
  'dc_voltage_v',
  'dc_current_a',
  'ac_voltage_v',
  'ac_frequency_hz',
  'temperature_c',
] as const;
export type OptionalField = (typeof OPTIONAL_FIELDS)[number];

export const RegisterMap = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,63}$' }),
    /** Short, in errors: "W is 9000, not a {title} operating state". */
    title: Type.String({ minLength: 1, maxLength: 64 }),
    /** Where the register table comes from (vendor document, version), so it can be checked. */
    source: Type.String({ minLength: 20 }),
    /**
     * `sunspec`: a point reading SunSpec's "not implemented" value for its type (0xFFFF, 0x8000,
     * all ones, NaN...) has no value; `none`: every value is taken as read.
     */
    notImplemented: Type.Union([Type.Literal('sunspec'), Type.Literal('none')]),
    /** Who the device is, read once when the gateway starts (vendor maps; SunSpec has model 1). */
    identity: Type.Optional(
      Type.Object(
        {
          blocks: Type.Array(Block, { minItems: 1, maxItems: 8 }),
          manufacturer: Type.String({ minLength: 1 }),
          serial: PointName,
          model: Type.Optional(PointName),
          ratedAcW: Type.Optional(PointName),
        },
        { additionalProperties: false },
      ),
    ),
    reading: Type.Object(
      {
        /** Read on every poll, one request each, so a value and its scale factor come together. */
        blocks: Type.Array(Block, { minItems: 1, maxItems: 8 }),
        energyWhTotal: PointName,
        acPowerW: PointName,
        state: Type.Object(
          {
            point: PointName,
            /** Raw value (decimal) → the contract's state. Any other value is garbage. */
            values: Type.Record(Type.String({ pattern: '^(0|[1-9][0-9]{0,9})$' }), State),
          },
          { additionalProperties: false },
        ),
        events: Type.Optional(
          Type.Array(
            Type.Object(
              {
                point: PointName,
                /** Bit number → event name; a set bit without a name is `{unnamed}{bit}`. */
                bits: Type.Record(Type.String({ pattern: '^([0-9]|[12][0-9]|3[01])$' }), EventName),
                unnamed: Type.Optional(Type.String({ pattern: '^[A-Z][A-Z0-9_]{0,55}$' })),
              },
              { additionalProperties: false },
            ),
            { maxItems: 8 },
          ),
        ),
        optional: Type.Optional(
          Type.Partial(Type.Object(Object.fromEntries(OPTIONAL_FIELDS.map((f) => [f, PointName])))),
        ),
      },
      { additionalProperties: false },
    ),
    points: Type.Record(PointName, Point),
  },
  { additionalProperties: false },
);
export type RegisterMap = Static<typeof RegisterMap>;

const checker = TypeCompiler.Compile(RegisterMap);

export const pointSize = (point: Pick<RegisterPoint, 'type' | 'size'>): number =>
  point.type === 'string' ? (point.size ?? 0) : TYPE_SIZE[point.type];

/** The map's problems beyond its schema, each naming where (empty: the map can be used). */
function inconsistencies(map: RegisterMap): string[] {
  const problems: string[] = [];
  const within = (name: string, blocks: { address: number; count: number }[], where: string) => {
    const point = map.points[name];
    if (!point) return problems.push(`${where}: no point '${name}' in /points`);
    if (point.type === 'string' && point.size === undefined)
      problems.push(`/points/${name}: a string needs its size in registers`);
    const end = point.address + pointSize(point);
    if (!blocks.some((b) => point.address >= b.address && end <= b.address + b.count))
      problems.push(`${where}: point '${name}' (${point.address}-${end - 1}) lies outside every block read with it`);
    if (typeof point.sf === 'string') {
      const sf = map.points[point.sf];
      if (sf?.type !== 'sunssf') problems.push(`/points/${name}/sf: '${point.sf}' is not a sunssf point`);
      else within(point.sf, blocks, `/points/${name}/sf`);
    }
  };
  const typed = (name: string, types: readonly RegisterType[], where: string) => {
    const type = map.points[name]?.type;
    if (type && !types.includes(type)) problems.push(`${where}: '${name}' is ${type}, expected ${types.join(' or ')}`);
  };
  const { reading, identity } = map;
  within(reading.energyWhTotal, reading.blocks, '/reading/energyWhTotal');
  typed(reading.energyWhTotal, COUNTER, '/reading/energyWhTotal');
  within(reading.acPowerW, reading.blocks, '/reading/acPowerW');
  typed(reading.acPowerW, NUMERIC, '/reading/acPowerW');
  within(reading.state.point, reading.blocks, '/reading/state');
  typed(reading.state.point, ['enum16', 'uint16'], '/reading/state');
  for (const [i, events] of (reading.events ?? []).entries()) {
    within(events.point, reading.blocks, `/reading/events/${i}`);
    typed(events.point, ['bitfield16', 'bitfield32'], `/reading/events/${i}`);
  }
  for (const [field, name] of Object.entries(reading.optional ?? {})) {
    if (name === undefined) continue;
    within(name, reading.blocks, `/reading/optional/${field}`);
    typed(name, NUMERIC, `/reading/optional/${field}`);
  }
  if (identity) {
    within(identity.serial, identity.blocks, '/identity/serial');
    typed(identity.serial, ['string'], '/identity/serial');
    if (identity.model) {
      within(identity.model, identity.blocks, '/identity/model');
      typed(identity.model, ['string'], '/identity/model');
    }
    if (identity.ratedAcW) {
      within(identity.ratedAcW, identity.blocks, '/identity/ratedAcW');
      typed(identity.ratedAcW, NUMERIC, '/identity/ratedAcW');
    }
  }
  return problems;
}

/** A map from data (a built-in's object, or a parsed file), validated; throws naming the field. */
export function parseRegisterMap(data: unknown, source: string): RegisterMap {
  const first = checker.Errors(data).First();
  if (first) throw new Error(`register map ${source}: ${first.path || '/'}: ${first.message}`);
  const map = data as RegisterMap;
  const problems = inconsistencies(map);
  if (problems.length > 0) throw new Error(`register map ${source}: ${problems.join('; ')}`);
  return map;
}

/** A technician's own map file (JSON in this format). */
export function loadRegisterMapFile(path: string): RegisterMap {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`register map ${path}: ${(error as Error).message}`);
  }
  return parseRegisterMap(data, path);
}
