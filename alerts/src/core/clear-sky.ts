// The site's clear-sky expectation: Haurwitz GHI transposed onto the array (south-facing in the
// northern hemisphere), times a performance ratio. Pure; memoised per site cell and day because
// a fleet shares few distinct (latitude, longitude, tilt) cells and the sun is the same for all.
import { clearSkyGhi, planeOfArray } from '../../../lib/solar/irradiance';
import { solarPosition } from '../../../lib/solar/solar-position';

const STEP_MS = 15 * 60_000;
const DAY_MS = 86_400_000;
/** Tehran civil days (+03:30 all year since 2022), as the InfluxDB daily rollup buckets them. */
export const TEHRAN_OFFSET_MS = 210 * 60_000;

export const tehranDate = (ms: number) => new Date(ms + TEHRAN_OFFSET_MS).toISOString().slice(0, 10);
export const tehranMidnight = (date: string) => Date.parse(`${date}T00:00:00Z`) - TEHRAN_OFFSET_MS;

export interface Site {
  latitude: number;
  longitude: number;
  tiltDeg: number | null;
}
const tiltOf = (site: Site) => site.tiltDeg ?? Math.round(Math.abs(site.latitude));

export const sunElevationDeg = (site: Site, tMs: number) =>
  90 - solarPosition(site.latitude, site.longitude, tMs).zenithDeg;

/** The sun stays above `minDeg` over the whole window (checked at its ends and middle: elevation is unimodal within a day). */
export function sunUpThroughout(site: Site, fromMs: number, toMs: number, minDeg: number): boolean {
  return [fromMs, (fromMs + toMs) / 2, toMs].every((t) => sunElevationDeg(site, t) >= minDeg);
}

/** Clear-sky plane-of-array irradiation between two instants, Wh/m² (midpoint rule, 15-minute steps). */
function clearSkyIrradiationWhM2(site: Site, fromMs: number, toMs: number): number {
  let wh = 0;
  for (let t = fromMs; t < toMs; t += STEP_MS) {
    const dt = Math.min(STEP_MS, toMs - t);
    const sun = solarPosition(site.latitude, site.longitude, t + dt / 2);
    const ghi = clearSkyGhi(sun.zenithDeg);
    if (ghi <= 0) continue;
    const dayOfYear = Math.floor((t - Date.UTC(new Date(t).getUTCFullYear(), 0, 0)) / DAY_MS);
    const poa = planeOfArray({
      ghi,
      zenithDeg: sun.zenithDeg,
      sunAzimuthDeg: sun.azimuthDeg,
      dayOfYear,
      tiltDeg: tiltOf(site),
      surfaceAzimuthDeg: site.latitude >= 0 ? 180 : 0,
    });
    wh += (poa * dt) / 3_600_000;
  }
  return wh;
}

/** Expected energy per kWp between two instants on a clear day, Wh/kWp (1 kW/m² is the rating irradiance). */
export const clearSkyWhPerKwp = (site: Site, fromMs: number, toMs: number, performanceRatio: number) =>
  clearSkyIrradiationWhM2(site, fromMs, toMs) * performanceRatio;

/** Expected kWh/kWp of a Tehran day on a clear sky, memoised per 0.1° cell, whole degree of tilt and day. */
export class ClearSkyDays {
  private readonly memo = new Map<string, number>();
  constructor(private readonly performanceRatio: number) {}

  kwhPerKwp(site: Site, date: string): number {
    const cell = {
      latitude: Math.round(site.latitude * 10) / 10,
      longitude: Math.round(site.longitude * 10) / 10,
      tiltDeg: tiltOf(site),
    };
    const key = `${cell.latitude},${cell.longitude},${cell.tiltDeg},${date}`;
    let value = this.memo.get(key);
    if (value === undefined) {
      const from = tehranMidnight(date);
      value = clearSkyWhPerKwp(cell, from, from + DAY_MS, this.performanceRatio) / 1000;
      this.memo.set(key, value);
    }
    return value;
  }
}
