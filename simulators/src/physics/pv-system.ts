// From sky to AC: site conditions computed once per site and instant, then each inverter's output.
import { solarPosition } from '../../../lib/solar/solar-position';
import { clearSkyGhi, planeOfArray } from '../../../lib/solar/irradiance';
import type { Climate } from './climate';
import { hashString } from './random';
import { ambientTempC, dayOfYear, skyFactor, soilingLoss } from './weather';
import type { InverterState } from '../../../lib/telemetry/contract';

export interface Site {
  id: string;
  latitude: number;
  longitude: number;
  climate: Climate;
}
export interface PvSystem {
  dcKwp: number;
  ratedAcW: number;
  tiltDeg: number;
  surfaceAzimuthDeg: number;
}

export interface SiteConditions {
  tMs: number;
  zenithDeg: number;
  sunAzimuthDeg: number;
  dayOfYear: number;
  ghi: number;
  ambientC: number;
  soilingLoss: number;
}

export function siteConditions(site: Site, tMs: number, seed: number): SiteConditions {
  const sun = solarPosition(site.latitude, site.longitude, tMs);
  const key = hashString(site.id);
  const ghi = clearSkyGhi(sun.zenithDeg) * (sun.zenithDeg < 90 ? skyFactor(site.climate, seed, key, tMs) : 0);
  return {
    tMs,
    zenithDeg: sun.zenithDeg,
    sunAzimuthDeg: sun.azimuthDeg,
    dayOfYear: dayOfYear(tMs),
    ghi,
    ambientC: ambientTempC(site.climate, site.longitude, tMs),
    soilingLoss: soilingLoss(site.climate, seed, key, tMs),
  };
}

export interface InverterOutput {
  acPowerW: number;
  state: InverterState;
  poaWm2: number;
  dcPowerW: number;
  dcVoltageV: number;
  dcCurrentA: number;
  acVoltageV: number;
  acFrequencyHz: number;
  temperatureC: number;
}

/** Wiring, mismatch and module-tolerance losses of a real array, before temperature and soiling. */
const DC_SYSTEM_DERATE = 0.9;
const TEMPERATURE_COEFFICIENT = -0.004; // per °C above 25 °C (crystalline silicon)
const NOCT_C = 45;

/** CEC-like efficiency: ~95 % at 10 % load, ~97.5 % near full load, poor at very low load. */
export function inverterEfficiency(loadFraction: number): number {
  if (loadFraction <= 0) return 0;
  return loadFraction / (loadFraction + 0.005 + 0.02 * loadFraction * loadFraction);
}

export function inverterOutput(c: SiteConditions, system: PvSystem, dcFactor = 1): InverterOutput {
  const poa = planeOfArray({
    ghi: c.ghi,
    zenithDeg: c.zenithDeg,
    sunAzimuthDeg: c.sunAzimuthDeg,
    dayOfYear: c.dayOfYear,
    tiltDeg: system.tiltDeg,
    surfaceAzimuthDeg: system.surfaceAzimuthDeg,
  });
  const cellC = c.ambientC + ((NOCT_C - 20) / 800) * poa;
  const dcPowerW = Math.max(
    0,
    system.dcKwp *
      1000 *
      (poa / 1000) *
      (1 + TEMPERATURE_COEFFICIENT * (cellC - 25)) *
      DC_SYSTEM_DERATE *
      (1 - c.soilingLoss) *
      dcFactor,
  );
  const load = dcPowerW / system.ratedAcW;
  const inverterC = c.ambientC + 10 * Math.min(1, load);
  if (load < 0.01) {
    return {
      acPowerW: 0,
      state: c.zenithDeg < 90 && load > 0 ? 'STARTING' : 'SLEEPING',
      poaWm2: poa,
      dcPowerW,
      dcVoltageV: poa > 5 ? 250 : 0,
      dcCurrentA: 0,
      acVoltageV: 230,
      acFrequencyHz: 50,
      temperatureC: inverterC,
    };
  }
  const unclipped = dcPowerW * inverterEfficiency(Math.min(load, 1.5));
  const acPowerW = Math.min(unclipped, system.ratedAcW);
  const dcVoltageV = 380 * (1 + -0.0035 * (cellC - 25)) * (0.92 + 0.08 * Math.min(1, poa / 1000));
  return {
    acPowerW,
    state: unclipped > system.ratedAcW ? 'THROTTLED' : 'MPPT',
    poaWm2: poa,
    dcPowerW,
    dcVoltageV,
    dcCurrentA: dcPowerW / dcVoltageV,
    acVoltageV: 230,
    acFrequencyHz: 50,
    temperatureC: inverterC,
  };
}

/** Expected AC energy for a site and system over [fromMs, toMs), sampled every stepMs. */
export function expectedYield(
  site: Site,
  system: PvSystem,
  fromMs: number,
  toMs: number,
  seed: number,
  stepMs = 300_000,
): { kwh: number; kwhPerKwp: number } {
  let wh = 0;
  for (let t = fromMs + stepMs; t <= toMs; t += stepMs)
    wh += inverterOutput(siteConditions(site, t, seed), system).acPowerW * (stepMs / 3_600_000);
  return { kwh: wh / 1000, kwhPerKwp: wh / 1000 / system.dcKwp };
}
