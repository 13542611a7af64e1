// Program progress: MW commissioned against 35 MW and people receiving income against 21,000, by
// province and overall, and data freshness (inverters silent while the sun is up at their site).
import type { PrismaClient } from '../../prisma/generated/client/client';
import type { InfluxClient } from '../../lib/influx/client';
import { solarPosition } from '../../lib/solar/solar-position';
import { tehranDate } from '../../lib/program/tehran-time';
import { progressFigures } from '../../registry';

export const PROGRAM_TARGET = { mw: 35, people: 21_000 };

export interface ProvinceProgress {
  province: string;
  nameFa: string;
  installations: number;
  mwCommissioned: number;
  people: number;
}
export interface Progress {
  generatedAt: string;
  target: typeof PROGRAM_TARGET;
  overall: { installations: number; mwCommissioned: number; mwPercent: number; people: number; peoplePercent: number };
  provinces: ProvinceProgress[];
  freshness: {
    activeInverters: number;
    sunUp: number;
    /** null while InfluxDB cannot be read: who is silent is then unknown, not everyone. */
    silentWhileSunUp: number | null;
    silentSerials: string[];
    staleAfterMinutes: number;
    telemetryAvailable: boolean;
  };
}

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

export async function computeProgress(
  prisma: PrismaClient,
  influx: InfluxClient,
  staleAfterMinutes: number,
  now = new Date(),
): Promise<Progress> {
  // Shares start and end on the program's (Tehran's) dates, as the Program dashboard counts them.
  const today = new Date(tehranDate(now.getTime()));
  const { provinces: byProvince, people, inverters } = await progressFigures(prisma, today);
  const peopleBy = new Map(people.map((p) => [p.code, p.people]));
  const provinces = byProvince.map((p) => ({
    province: p.code,
    nameFa: p.name_fa,
    installations: p.installations,
    mwCommissioned: round(Number(p.kwp ?? 0) / 1000),
    people: peopleBy.get(p.code) ?? 0,
  }));
  const mw = round(provinces.reduce((s, p) => s + p.mwCommissioned, 0));
  const peopleTotal = provinces.reduce((s, p) => s + p.people, 0);

  // Last reading per inverter over the last day; silent = none within the window while the sun is up.
  let lastSeen = new Map<string, number>();
  let telemetryAvailable = true;
  try {
    const rows = await influx.rows(
      `SELECT last("ac_power_w") FROM "telemetry" WHERE time > ${now.getTime() - 86_400_000}ms GROUP BY "serial"`,
    );
    lastSeen = new Map(rows.map((r) => [String(r.serial), Number(r.time)]));
  } catch {
    telemetryAvailable = false;
  }
  const cutoff = now.getTime() - staleAfterMinutes * 60_000;
  const sunUp = inverters.filter(
    (inv) => solarPosition(Number(inv.latitude), Number(inv.longitude), now.getTime()).zenithDeg < 85,
  );
  const silent = (telemetryAvailable ? sunUp : [])
    .filter((inv) => (lastSeen.get(inv.serial) ?? 0) < cutoff)
    .map((inv) => inv.serial)
    .sort();
  return {
    generatedAt: now.toISOString(),
    target: PROGRAM_TARGET,
    overall: {
      installations: provinces.reduce((s, p) => s + p.installations, 0),
      mwCommissioned: mw,
      mwPercent: round((mw / PROGRAM_TARGET.mw) * 100, 1),
      people: peopleTotal,
      peoplePercent: round((peopleTotal / PROGRAM_TARGET.people) * 100, 1),
    },
    provinces,
    freshness: {
      activeInverters: inverters.length,
      sunUp: sunUp.length,
      silentWhileSunUp: telemetryAvailable ? silent.length : null,
      silentSerials: silent.slice(0, 100),
      staleAfterMinutes,
      telemetryAvailable,
    },
  };
}
