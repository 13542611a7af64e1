// Scenario files: which inverters to simulate, where, and which faults to inject. JSON, validated
// with a clear message naming the offending field.
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { loadProvinces, type ProvinceRecord } from '../../lib/provinces';
import { SERIAL_PATTERN } from '../../lib/telemetry/contract';
import { Fault, toActiveFault, type ActiveFault } from './faults';
import { DEFAULT_CLIMATE, PROVINCE_CLIMATE } from './physics/climate';
import type { PvSystem, Site } from './physics/pv-system';

const InverterSpec = Type.Object(
  {
    serial: Type.String({ pattern: SERIAL_PATTERN }),
    province: Type.Optional(Type.String({ description: 'English province name; its capital is the site' })),
    latitude: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
    longitude: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
    dcKwp: Type.Number({ exclusiveMinimum: 0, maximum: 100_000 }),
    ratedAcW: Type.Integer({ minimum: 1, maximum: 100_000_000 }),
    tiltDeg: Type.Optional(Type.Number({ minimum: 0, maximum: 90 })),
    initialCounterWh: Type.Optional(Type.Number({ minimum: 0 })),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const Scenario = Type.Object(
  {
    seed: Type.Optional(Type.Integer()),
    intervalSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    inverters: Type.Array(InverterSpec, { minItems: 1 }),
    faults: Type.Optional(Type.Array(Fault)),
  },
  { additionalProperties: false },
);
export type Scenario = Static<typeof Scenario>;
export type InverterSpec = Static<typeof InverterSpec>;

const check = TypeCompiler.Compile(Scenario);

export function parseScenario(text: string, source = 'scenario'): Scenario {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not JSON: ${(error as Error).message}`);
  }
  const first = check.Errors(data).First();
  if (first) throw new Error(`${source}: ${first.path || '/'}: ${first.message}`);
  const scenario = data as Scenario;
  const serials = new Set(scenario.inverters.map((i) => i.serial));
  if (serials.size !== scenario.inverters.length) throw new Error(`${source}: /inverters: serials must be unique`);
  for (const [i, fault] of (scenario.faults ?? []).entries()) {
    if (fault.serial !== '*' && !serials.has(fault.serial))
      throw new Error(`${source}: /faults/${i}/serial: '${fault.serial}' is not one of the scenario's inverters`);
    if (Number.isNaN(Date.parse(fault.from)) || (fault.until !== undefined && Number.isNaN(Date.parse(fault.until))))
      throw new Error(`${source}: /faults/${i}: from/until must be RFC 3339 timestamps`);
    if (fault.until && Date.parse(fault.until) <= Date.parse(fault.from))
      throw new Error(`${source}: /faults/${i}: until must be after from`);
  }
  for (const [i, inv] of scenario.inverters.entries()) {
    if (!inv.province && (inv.latitude === undefined || inv.longitude === undefined))
      throw new Error(`${source}: /inverters/${i}: give a province or latitude and longitude`);
  }
  return scenario;
}

export const loadScenario = (path: string) => parseScenario(readFileSync(path, 'utf8'), path);

/** A homogeneous fleet from command-line flags: N inverters spread over provinces. */
export function generatedFleet(options: { count: number; prefix: string; province: string; dcKwp: number }): Scenario {
  const provinces = loadProvinces();
  const pick = (i: number) =>
    options.province === 'all' ? provinces[i % provinces.length]! : findProvince(provinces, options.province);
  return {
    inverters: Array.from({ length: options.count }, (_, i) => ({
      serial: `${options.prefix}${String(i + 1).padStart(6, '0')}`,
      province: pick(i).nameEn,
      dcKwp: options.dcKwp,
      ratedAcW: Math.round(options.dcKwp * 1000),
    })),
  };
}

function findProvince(provinces: ProvinceRecord[], name: string): ProvinceRecord {
  const found = provinces.find(
    (p) =>
      p.nameEn.toLowerCase() === name.toLowerCase() ||
      p.code === name.toLowerCase() ||
      p.capitalEn.toLowerCase() === name.toLowerCase(),
  );
  if (!found) throw new Error(`unknown province '${name}'; use one of: ${provinces.map((p) => p.nameEn).join(', ')}`);
  return found;
}

export interface PlannedInverter {
  spec: InverterSpec;
  site: Site;
  system: PvSystem;
  provinceCode: string;
  faults: ActiveFault[];
}

/** Resolves sites (province capitals unless coordinates are given) and each inverter's faults. */
export function planFleet(scenario: Scenario): PlannedInverter[] {
  const provinces = loadProvinces();
  return scenario.inverters.map((spec) => {
    const province = spec.province ? findProvince(provinces, spec.province) : undefined;
    const latitude = spec.latitude ?? province!.latitude;
    const longitude = spec.longitude ?? province!.longitude;
    const site: Site = {
      // Inverters at the same place share weather and sun (computed once per instant).
      id: `${latitude.toFixed(2)},${longitude.toFixed(2)}`,
      latitude,
      longitude,
      climate: (province && PROVINCE_CLIMATE[province.nameEn]) ?? DEFAULT_CLIMATE,
    };
    const system: PvSystem = {
      dcKwp: spec.dcKwp,
      ratedAcW: spec.ratedAcW,
      tiltDeg: spec.tiltDeg ?? Math.round(Math.abs(latitude)),
      surfaceAzimuthDeg: latitude >= 0 ? 180 : 0,
    };
    const faults = (scenario.faults ?? [])
      .filter((f) => f.serial === spec.serial || f.serial === '*')
      .map(toActiveFault);
    return { spec, site, system, provinceCode: province?.code ?? 'tehran', faults };
  });
}
