// Seeded weather at a site: a day type (clear, partly cloudy, overcast) correlated over a few days
// and more often cloudy in winter, minute-scale cloud passages on partly cloudy days, rain days,
// soiling that grows over dry days and is washed off by rain, and ambient temperature.
import type { Climate } from './climate';
import { smoothNoise, uniform } from './random';

const DAY_MS = 86_400_000;
export const dayIndex = (tMs: number) => Math.floor(tMs / DAY_MS);
export const dayOfYear = (tMs: number) => {
  const d = new Date(tMs);
  return Math.floor((tMs - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY_MS) + 1;
};

/** Winter (January) ×1.8 cloudiness, summer ×0.2. */
const seasonal = (doy: number) => 1 + 0.8 * Math.cos((2 * Math.PI * (doy - 15)) / 365);

export type DayType = 'clear' | 'partly_cloudy' | 'overcast';
export interface DayWeather {
  type: DayType;
  skyFactor: number;
  rain: boolean;
}

export function dayWeather(climate: Climate, seed: number, siteKey: number, day: number): DayWeather {
  const doy = dayOfYear(day * DAY_MS);
  const rain = uniform(seed, siteKey, day, 7) < Math.min(0.9, (climate.rainDaysPerYear / 365) * seasonal(doy));
  const cloudProbability = Math.min(0.95, climate.cloudiness * seasonal(doy));
  const n = smoothNoise(seed, siteKey, day / 2.5); // weather systems last a few days
  const u = uniform(seed, siteKey, day, 3);
  if (rain || n < cloudProbability * 0.4) return { type: 'overcast', skyFactor: 0.2 + 0.25 * u, rain };
  if (n < cloudProbability) return { type: 'partly_cloudy', skyFactor: 0.6 + 0.25 * u, rain };
  return { type: 'clear', skyFactor: 0.93 + 0.07 * u, rain };
}

/** Fraction of clear-sky irradiance reaching the ground at tMs. */
export function skyFactor(climate: Climate, seed: number, siteKey: number, tMs: number): number {
  const day = dayWeather(climate, seed, siteKey, dayIndex(tMs));
  if (day.type === 'clear') return day.skyFactor;
  // Clouds passing over minutes: deeper dips on partly cloudy days.
  const passage = smoothNoise(seed, siteKey ^ 0x5bd1e995, tMs / 600_000);
  const depth = day.type === 'partly_cloudy' ? 0.7 : 0.3;
  return Math.max(0.05, Math.min(1.1, day.skyFactor * (1 + depth * (passage - 0.5) * 2 * 0.5)));
}

/** 70 dry days cost 21.5 % (a Tehran field study); capped at 30 %; rain washes the panels. */
export const SOILING_LOSS_PER_DRY_DAY = 0.215 / 70;
const MAX_SOILING_LOSS = 0.3;
const soilingCache = new Map<string, number>();

export function soilingLoss(climate: Climate, seed: number, siteKey: number, tMs: number): number {
  const today = dayIndex(tMs);
  const key = `${seed}:${siteKey}:${today}`;
  let loss = soilingCache.get(key);
  if (loss === undefined) {
    let dry = 0;
    while (dry < 120 && !dayWeather(climate, seed, siteKey, today - dry).rain) dry += 1;
    loss = Math.min(MAX_SOILING_LOSS, dry * SOILING_LOSS_PER_DRY_DAY);
    if (soilingCache.size > 200_000) soilingCache.clear();
    soilingCache.set(key, loss);
  }
  return loss;
}

/** Ambient temperature: seasonal swing (coldest late January) and a diurnal one peaking mid-afternoon local solar time. */
export function ambientTempC(climate: Climate, longitudeDeg: number, tMs: number): number {
  const doy = dayOfYear(tMs);
  const solarHour = ((tMs % DAY_MS) / 3_600_000 + longitudeDeg / 15 + 24) % 24;
  return (
    climate.meanTempC -
    climate.seasonalAmplitudeC * Math.cos((2 * Math.PI * (doy - 20)) / 365) +
    6 * Math.sin((2 * Math.PI * (solarHour - 9)) / 24)
  );
}
