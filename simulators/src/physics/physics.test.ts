import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadProvinces } from '../../../lib/provinces';
import { PROVINCE_CLIMATE } from './climate';
import { clearSkyGhi } from '../../../lib/solar/irradiance';
import {
  expectedYield,
  inverterEfficiency,
  inverterOutput,
  siteConditions,
  type PvSystem,
  type Site,
} from './pv-system';
import { SOILING_LOSS_PER_DRY_DAY, dayWeather, soilingLoss } from './weather';

const yazd: Site = { id: 'yazd', latitude: 31.9, longitude: 54.37, climate: PROVINCE_CLIMATE.Yazd! };
const rasht: Site = { id: 'rasht', latitude: 37.22, longitude: 49.58, climate: PROVINCE_CLIMATE.Gilan! };
const fiveKw = (lat: number): PvSystem => ({
  dcKwp: 5,
  ratedAcW: 5000,
  tiltDeg: Math.round(lat),
  surfaceAzimuthDeg: 180,
});
const YEAR = [Date.UTC(2025, 0, 1), Date.UTC(2026, 0, 1)] as const;

describe('PV system', () => {
  it('produces nothing at night and near-rated power at a clear June noon in Yazd', () => {
    const system = fiveKw(yazd.latitude);
    const night = inverterOutput(siteConditions(yazd, Date.UTC(2026, 5, 10, 21, 0), 1), system);
    expect(night).toMatchObject({ acPowerW: 0, state: 'SLEEPING' });
    let best = 0;
    for (let seed = 1; seed <= 20; seed++)
      best = Math.max(best, inverterOutput(siteConditions(yazd, Date.UTC(2026, 5, 10, 8, 30), seed), system).acPowerW);
    expect(best).toBeGreaterThan(0.7 * 5000);
    expect(best).toBeLessThanOrEqual(5000);
  });

  it('gives a realistic annual specific yield: 1,600-2,200 kWh/kWp in Yazd, at least 10 % less in Rasht', () => {
    const y = expectedYield(yazd, fiveKw(yazd.latitude), ...YEAR, 1, 600_000).kwhPerKwp;
    const r = expectedYield(rasht, fiveKw(rasht.latitude), ...YEAR, 1, 600_000).kwhPerKwp;
    expect(y).toBeGreaterThan(1600);
    expect(y).toBeLessThan(2200);
    expect(r).toBeLessThan(0.9 * y);
  });

  it('is deterministic per seed and differs between seeds', () => {
    const at = (seed: number) =>
      expectedYield(yazd, fiveKw(yazd.latitude), Date.UTC(2026, 0, 1), Date.UTC(2026, 1, 1), seed).kwh;
    expect(at(7)).toBe(at(7));
    expect(at(7)).not.toBe(at(8));
  });

  it('never goes negative nor above the AC rating, whatever the instant, seed or derating', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }),
        fc.integer({ min: 0, max: 1000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 1, max: 2000, noNaN: true }),
        (t, seed, dcFactor, dcKwp) => {
          const out = inverterOutput(
            siteConditions(yazd, t, seed),
            { dcKwp, ratedAcW: dcKwp * 800, tiltDeg: 30, surfaceAzimuthDeg: 180 },
            dcFactor,
          );
          return (
            out.acPowerW >= 0 &&
            out.acPowerW <= dcKwp * 800 + 1e-9 &&
            (out.state !== 'THROTTLED' || out.acPowerW === dcKwp * 800)
          );
        },
      ),
      { numRuns: 500 },
    );
    expect(inverterEfficiency(1)).toBeGreaterThan(0.97);
    expect(inverterEfficiency(0.1)).toBeGreaterThan(0.94);
    expect(clearSkyGhi(95)).toBe(0);
  });
});

describe('weather and soiling', () => {
  it('has a preset for every province', () => {
    for (const p of loadProvinces()) expect(PROVINCE_CLIMATE[p.nameEn], p.nameEn).toBeDefined();
  });

  it('makes Rasht cloudier than Yazd', () => {
    const cloudyDays = (site: Site) =>
      Array.from({ length: 365 }, (_, d) => dayWeather(site.climate, 1, 42, 20_454 + d)).filter(
        (w) => w.type !== 'clear',
      ).length;
    expect(cloudyDays(rasht)).toBeGreaterThan(2 * cloudyDays(yazd));
  });

  it('loses about 21.5 % after 70 dry days and is washed clean by rain', () => {
    expect(70 * SOILING_LOSS_PER_DRY_DAY).toBeCloseTo(0.215, 3);
    const key = 1234;
    const rainy = (d: number) => dayWeather(yazd.climate, 3, key, d).rain;
    // A rain day followed by at least 30 dry days in the desert.
    const rainDay = Array.from({ length: 2000 }, (_, i) => 20_000 + i).find(
      (d) => rainy(d) && Array.from({ length: 30 }, (_, k) => d + 1 + k).every((x) => !rainy(x)),
    )!;
    expect(rainDay).toBeDefined();
    const loss = (d: number) => soilingLoss(yazd.climate, 3, key, d * 86_400_000 + 43_200_000);
    expect(loss(rainDay)).toBe(0);
    expect(loss(rainDay + 10)).toBeCloseTo(10 * SOILING_LOSS_PER_DRY_DAY, 10);
    expect(loss(rainDay + 30)).toBeCloseTo(30 * SOILING_LOSS_PER_DRY_DAY, 10);
  });
});
