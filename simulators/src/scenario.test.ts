import { describe, expect, it } from 'vitest';
import { generatedFleet, parseScenario, planFleet } from './scenario';

const inverter = { serial: 'INV-1', province: 'Yazd', dcKwp: 5, ratedAcW: 5000 };
const parse = (scenario: unknown) => parseScenario(JSON.stringify(scenario), 'test.json');

describe('scenario files', () => {
  it('reject bad input with the file and the offending field', () => {
    expect(() => parseScenario('{', 'test.json')).toThrow(/^test\.json: not JSON/);
    expect(() => parse({ inverters: [] })).toThrow(/test\.json: \/inverters: /);
    expect(() => parse({ inverters: [{ ...inverter, dcKwp: -1 }] })).toThrow(/\/inverters\/0\/dcKwp/);
    expect(() => parse({ inverters: [{ ...inverter, serial: 'bad serial' }] })).toThrow(/\/inverters\/0\/serial/);
    expect(() => parse({ inverters: [inverter, inverter] })).toThrow(/serials must be unique/);
    expect(() =>
      parse({ inverters: [inverter], faults: [{ serial: 'OTHER', kind: 'offline', from: '2026-01-01T00:00:00Z' }] }),
    ).toThrow(/\/faults\/0\/serial: 'OTHER' is not one of/);
    expect(() =>
      parse({ inverters: [inverter], faults: [{ serial: 'INV-1', kind: 'meteor', from: '2026-01-01T00:00:00Z' }] }),
    ).toThrow(/\/faults\/0\/kind/);
    expect(() =>
      parse({ inverters: [inverter], faults: [{ serial: 'INV-1', kind: 'offline', from: 'yesterday' }] }),
    ).toThrow(/RFC 3339/);
    expect(() => parse({ inverters: [{ serial: 'X', dcKwp: 5, ratedAcW: 5000 }] })).toThrow(
      /province or latitude and longitude/,
    );
    expect(() => planFleet(parse({ inverters: [{ ...inverter, province: 'Atlantis' }] }))).toThrow(
      /unknown province 'Atlantis'/,
    );
  });

  it('places inverters at province capitals, tilted at the latitude, sharing a site per place', () => {
    const planned = planFleet(generatedFleet({ count: 62, prefix: 'G', province: 'all', dcKwp: 5 }));
    expect(new Set(planned.map((p) => p.site.id)).size).toBe(31);
    const yazd = planned.find((p) => p.spec.province === 'Yazd')!;
    expect(yazd).toMatchObject({
      provinceCode: 'yazd',
      site: { latitude: 31.9, longitude: 54.36 },
      system: { tiltDeg: 32, surfaceAzimuthDeg: 180, ratedAcW: 5000 },
    });
    expect(planned[0]!.spec.serial).toBe('G000001');
  });
});
