// The site's clear-sky expectation: Haurwitz GHI transposed onto the array (south-facing in the
// northern hemisphere), times a performance ratio. Pure.
import { clearSkyGhi, planeOfArray } from '../../../lib/solar/irradiance';
import { solarPosition } from '../../../lib/solar/solar-position';
import { tehranMidnight } from '../../../lib/program/tehran-time';

const STEP_MS = 15 * 60_000;
const DAY_MS = 86_400_000;
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

/**
 * Whether the sun stayed up over one window, per site, memoised per quarter degree (about a
 * minute of solar time: immaterial against a 10° threshold) since fleets cluster.
 */
export class Daylight {
  private readonly memo = new Map<number, boolean>();
  constructor(
    private readonly fromMs: number,
    private readonly toMs: number,
    private readonly minDeg: number,
  ) {}

  isUp(site: Site): boolean {
    const lat = Math.round(site.latitude * 4);
    const lon = Math.round(site.longitude * 4);
    const key = lat * 10_000 + lon;
    let up = this.memo.get(key);
    if (up === undefined) {
      up = sunUpThroughout(
        { latitude: lat / 4, longitude: lon / 4, tiltDeg: null },
        this.fromMs,
        this.toMs,
        this.minDeg,
      );
      this.memo.set(key, up);
    }
    return up;
  }
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

/**
 * Expected kWh/kWp of a Tehran day on a clear sky. A day's total hardly depends on longitude (it
 * only moves the sun within the Tehran day) and changes by well under 1 % per half degree of
 * latitude, so it is memoised per half degree of latitude, whole degree of tilt and day: a fleet
 * of any size needs a few hundred integrations, shared by all evaluations of a process.
 */
const dayMemo = new Map<string, number>();
const DAY_MEMO_MAX = 100_000;

export class ClearSkyDays {
  constructor(private readonly performanceRatio: number) {}

  /** kWh/kWp per date for one site (the cell's key is built once, not per day). */
  forSite(site: Site): (date: string) => number {
    const latitude = Math.round(site.latitude * 2) / 2;
    const tiltDeg = tiltOf(site);
    const prefix = `${latitude},${tiltDeg},`;
    return (date) => this.cell(prefix, latitude, tiltDeg, date);
  }

  kwhPerKwp(site: Site, date: string): number {
    return this.forSite(site)(date);
  }

  private cell(prefix: string, latitude: number, tiltDeg: number, date: string): number {
    const key = prefix + date;
    let irradiation = dayMemo.get(key);
    if (irradiation === undefined) {
      const from = tehranMidnight(date);
      // Longitude 53° E: Iran's middle, so the solar day sits inside the Tehran day.
      irradiation = clearSkyIrradiationWhM2({ latitude, longitude: 53, tiltDeg }, from, from + DAY_MS) / 1000;
      if (dayMemo.size >= DAY_MEMO_MAX) dayMemo.clear();
      dayMemo.set(key, irradiation);
    }
    return irradiation * this.performanceRatio;
  }
}
