import { describe, expect, it } from 'vitest';
import { solarPosition } from './solar-position';

describe('solar position (NOAA/Meeus)', () => {
  it('matches the NREL SPA reference case within 0.05°', () => {
    // SPA paper test: 2003-10-17 12:30:30 at UTC-7, 39.742476 N, 105.1786 W -> zenith 50.11162, azimuth 194.34024
    const p = solarPosition(39.742476, -105.1786, Date.UTC(2003, 9, 17, 19, 30, 30));
    expect(Math.abs(p.zenithDeg - 50.11162)).toBeLessThan(0.05);
    expect(Math.abs(p.azimuthDeg - 194.34024)).toBeLessThan(0.05);
  });

  it('puts the sun below the horizon at Tehran midnight and high at noon in June', () => {
    expect(solarPosition(35.7, 51.42, Date.UTC(2026, 5, 21, 20, 30)).zenithDeg).toBeGreaterThan(100); // 00:00 local
    const noon = solarPosition(35.7, 51.42, Date.UTC(2026, 5, 21, 8, 35)); // solar noon ≈ 12:05 local
    expect(noon.zenithDeg).toBeCloseTo(35.7 - 23.44, 0);
  });
});
