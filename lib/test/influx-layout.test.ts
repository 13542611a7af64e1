// The InfluxDB layout on the real server: idempotent creation, retention, and the rollups.
import { describe, expect, it } from 'vitest';
import { ensureInfluxLayout, rebuildRollups } from '../influx/layout';
import { freshInfluxDatabase } from '../../testing/services';

describe('InfluxDB layout (real InfluxDB)', () => {
  it('creates retention policies and rollups once, and rolls counters up by hour and by Tehran day', async () => {
    const { influx, config } = await freshInfluxDatabase('test_layout');
    expect(await ensureInfluxLayout(influx, config.rawRetention)).toEqual([]); // already made: nothing to change
    const policies = await influx.rows('SHOW RETENTION POLICIES');
    expect(policies.map((p) => [p.name, p.default])).toEqual(
      expect.arrayContaining([
        ['raw', true],
        ['hourly', false],
        ['daily', false],
        ['rejected', false],
      ]),
    );
    expect(policies.find((p) => p.name === 'rejected')?.duration).toBe('720h0m0s'); // 30 days: rejections age out

    // Every 10 minutes for 2 days from 2026-11-20 00:00 Tehran (= 2026-11-19 20:30 UTC), +100 Wh each.
    const start = Date.parse('2026-11-19T20:30:00Z');
    const lines = Array.from(
      { length: 288 },
      (_, i) =>
        `telemetry,installation=L-1,province=yazd,serial=LAY1 energy_wh_total=${1000 + i * 100},ac_power_w=600 ${start + i * 600_000}000000`,
    );
    await influx.write(lines.join('\n'));
    await rebuildRollups(influx, start, start + 2 * 86_400_000);

    const hourly = await influx.rows(
      `SELECT "energy_wh_total", "readings" FROM "hourly"."telemetry" WHERE "serial" = 'LAY1'`,
    );
    expect(hourly).toHaveLength(48);
    expect(hourly[0]).toMatchObject({ time: start, energy_wh_total: 1500, readings: 6 });
    const daily = await influx.rows(
      `SELECT "energy_wh_total", "readings" FROM "daily"."telemetry" WHERE "serial" = 'LAY1'`,
    );
    expect(daily.map((d) => [d.time, d.energy_wh_total, d.readings])).toEqual([
      [start, 1000 + 143 * 100, 144],
      [start + 86_400_000, 1000 + 287 * 100, 144],
    ]);
  });
});
