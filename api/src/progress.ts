// Program progress: MW commissioned against 35 MW and people receiving income against 21,000, by
// province and overall, and data freshness (inverters silent while the sun is up at their site).
import type { PrismaClient } from '../../prisma/generated/client/client';
import type { InfluxClient } from '../../lib/influx/client';
import { solarPosition } from '../../lib/solar/solar-position';
import { tehranDate } from '../../lib/program/tehran-time';

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
  // One query after another, not in parallel: on a small machine this background work must leave
  // CPU for the requests being served.
  const byProvince = await prisma.$queryRaw<
    { code: string; name_fa: string; installations: number; kwp: string | null }[]
  >`
      SELECT p.code, p.name_fa, count(i.id)::int AS installations, sum(i.dc_capacity_kwp)::text AS kwp
      FROM provinces p LEFT JOIN installations i ON i.province_id = p.id AND i.status = 'COMMISSIONED'
      GROUP BY p.code, p.name_fa ORDER BY p.code`;
  const people = await prisma.$queryRaw<{ code: string; people: number }[]>`
      SELECT p.code, count(DISTINCT s.beneficiary_id)::int AS people
      FROM shares s JOIN beneficiaries b ON b.id = s.beneficiary_id AND b.status = 'ACTIVE'
      JOIN installations i ON i.id = s.installation_id AND i.status = 'COMMISSIONED'
      JOIN provinces p ON p.id = b.province_id
      WHERE s.valid_from <= ${today} AND (s.valid_until IS NULL OR s.valid_until > ${today})
      GROUP BY p.code`;
  const inverters = await prisma.$queryRaw<{ serial: string; latitude: string; longitude: string }[]>`
      SELECT inv.serial, i.latitude::text, i.longitude::text FROM inverters inv JOIN installations i ON i.id = inv.installation_id
      WHERE inv.status = 'ACTIVE' AND i.status = 'COMMISSIONED'`;
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
