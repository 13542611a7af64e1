// Fleet: what is the fleet producing now, today and this month, which inverters are not producing,
// how provinces compare per kWp, and which open alerts cost the most. Audience: operators on duty.
import { TEHRAN_BUCKETS } from '../../lib/influx/layout';
import { counterIncrease, timeAnchorVariables } from './energy';
import { type DashboardSpec, finish, influxql, queryVariable, solarDashboard, sql } from './grafana';
import { stat, table, timeseries, UNIT } from './panels';

/** InfluxDB tags carry the province code; `$province` is multi-value, so it is matched as a regex. */
export const IN_PROVINCES = `"province" =~ /^$province$/`;

export function provinceVariable() {
  return queryVariable(
    'province',
    'Province',
    'postgres',
    'SELECT code AS __value, name_en AS __text FROM provinces ORDER BY name_en',
    {
      multi: true,
      includeAll: true,
      description: 'Provinces to show (the InfluxDB tag is the province code).',
      expect: { shape: 'table', columns: ['__value', '__text'], minRows: 31 },
    },
  );
}

const lastState = (states: string[]) =>
  `SELECT count("state") FROM (SELECT last("state") AS "state" FROM "raw"."telemetry" WHERE time > now() - 15m ` +
  `AND ${IN_PROVINCES} GROUP BY "serial") WHERE ${states.map((s) => `"state" = '${s}'`).join(' OR ')}`;

export const fleet: DashboardSpec = {
  uid: 'solar-fleet',
  folder: 'Operations',
  build: () => {
    const dashboard = solarDashboard(
      'solar-fleet',
      'Fleet',
      'Power now, energy today and this Solar Hijri month from the counters, inverter states, specific yield by ' +
        'province and the open alerts ranked by income at risk.',
      ['influx', 'postgres'],
      // Every 5 minutes: its figures come from rollups refreshed every 15 minutes or hourly, and a
      // load at program scale costs InfluxDB seconds (BENCHMARKS.md).
      { from: 'now-24h', refresh: '5m' },
    ).withVariable(provinceVariable());
    for (const anchor of timeAnchorVariables()) dashboard.withVariable(anchor);
    return finish(
      dashboard
        .withPanel(
          stat({
            title: 'Power now',
            description:
              'Sum of each inverter’s latest AC power reported in the last 15 minutes, in the selected provinces.',
            unit: UNIT.watt,
            w: 6,
            h: 5,
            targets: [
              influxql(
                'A',
                `SELECT sum("power") FROM (SELECT last("ac_power_w") AS "power" FROM "raw"."telemetry" WHERE ` +
                  `time > now() - 15m AND ${IN_PROVINCES} GROUP BY "serial")`,
                { shape: 'value' },
              ),
            ],
          }),
        )
        .withPanel(
          stat({
            title: 'Energy today',
            description:
              'Increase of the inverters’ lifetime counters since midnight Tehran time (hourly rollup, refreshed every 15 minutes), in kWh. Not summed power.',
            unit: UNIT.kwh,
            decimals: 1,
            w: 6,
            h: 5,
            targets: [
              influxql(
                'A',
                `SELECT sum("wh") / 1000 FROM (${counterIncrease('hourly', `time >= \${day_start}ms - 1h AND ${IN_PROVINCES}`)})`,
                { shape: 'value' },
              ),
            ],
          }),
        )
        .withPanel(
          stat({
            title: 'Energy this Solar Hijri month',
            description:
              'Increase of the lifetime counters since the first day of the current Solar Hijri month (daily ' +
              'rollup, refreshed hourly), in kWh. Billing’s draft is the exact account.',
            unit: UNIT.kwh,
            decimals: 0,
            w: 6,
            h: 5,
            targets: [
              influxql(
                'A',
                `SELECT sum("wh") / 1000 FROM (${counterIncrease('daily', `time >= \${month_start}ms - 1d AND ${IN_PROVINCES}`)})`,
                { shape: 'value' },
              ),
            ],
          }),
        )
        .withPanel(
          stat({
            title: 'Inverters by state',
            description:
              'Latest state in the last 15 minutes: producing (MPPT, STARTING), throttled (curtailment or ' +
              'clipping, not a fault), sleeping (SLEEPING, STANDBY, OFF, SHUTTING_DOWN), faulted (FAULT). ' +
              'Offline: the broker reported the device’s connection lost (its last will) and it has not come back.',
            unit: UNIT.count,
            w: 6,
            h: 5,
            targets: [
              influxql(
                'A',
                lastState(['MPPT', 'STARTING']),
                { shape: 'value', mayBeEmpty: true },
                { alias: 'Producing' },
              ),
              influxql('B', lastState(['THROTTLED']), { shape: 'value', mayBeEmpty: true }, { alias: 'Throttled' }),
              influxql(
                'C',
                lastState(['SLEEPING', 'STANDBY', 'OFF', 'SHUTTING_DOWN']),
                { shape: 'value', mayBeEmpty: true },
                { alias: 'Sleeping' },
              ),
              influxql('D', lastState(['FAULT']), { shape: 'value' }, { alias: 'Faulted' }),
              influxql(
                'E',
                `SELECT count("online") FROM (SELECT last("online") AS "online" FROM "raw"."device_status" WHERE ` +
                  `${IN_PROVINCES} GROUP BY "serial") WHERE "online" = false`,
                { shape: 'value' },
                { alias: 'Offline' },
              ),
            ],
          }).noValue('0'),
        )
        .withPanel(
          stat({
            title: 'Open alerts',
            description:
              'Alerts open or acknowledged in the selected provinces (offline, area outage, fault, underperforming), from the platform’s alert engine.',
            unit: UNIT.count,
            w: 6,
            h: 5,
            targets: [
              sql('A', `SELECT count(*) AS "Open alerts" FROM active_alerts WHERE province_code IN ($province)`, {
                shape: 'value',
              }),
            ],
          }),
        )
        .withPanel(
          stat({
            title: 'Income at risk per day',
            description:
              'Sum over the open alerts of the estimated income lost per day: lost energy × each installation’s tariff, in Rials.',
            unit: UNIT.rials,
            w: 6,
            h: 5,
            targets: [
              sql(
                'A',
                `SELECT coalesce(sum(lost_rials_per_day), 0) AS "Rials per day" FROM active_alerts WHERE province_code IN ($province)`,
                { shape: 'value' },
              ),
            ],
          }),
        )
        .withPanel(
          table({
            title: 'Open alerts ranked by income at risk',
            description:
              'Open and acknowledged alerts, the costliest first: estimated kWh and Rials lost per day, what and ' +
              'where, since when, and who has it. Acknowledge, assign and resolve them through the API.',
            unit: UNIT.text,
            columnUnits: {
              Rank: UNIT.count,
              'kWh/day at risk': UNIT.kwh,
              'Rials/day at risk': UNIT.rials,
              Installations: UNIT.count,
              Opened: 'dateTimeAsLocal',
            },
            w: 12,
            h: 10,
            targets: [
              sql(
                'A',
                `SELECT row_number() OVER (ORDER BY lost_rials_per_day DESC, opened_at) AS "Rank",
  lost_rials_per_day AS "Rials/day at risk", lost_kwh_per_day::float AS "kWh/day at risk",
  severity::text AS "Severity", rule::text AS "Rule", cause AS "Cause", summary AS "Summary",
  coalesce(installation_code, area) AS "Installation or area", province_name_en AS "Province",
  affected_installations AS "Installations", opened_at AS "Opened", state::text AS "State", assigned_to AS "Assigned to"
FROM active_alerts
WHERE province_code IN ($province)
ORDER BY "Rank"
LIMIT 200`,
                {
                  shape: 'table',
                  columns: ['Rank', 'Rials/day at risk', 'kWh/day at risk', 'Rule', 'Installation or area', 'Opened'],
                  minRows: 1,
                },
              ),
            ],
          }),
        )
        .withPanel(
          timeseries({
            title: 'Fleet power by province (hourly mean)',
            description:
              'Sum over inverters of each one’s mean AC power per Tehran hour (hourly rollup), by province, in W.',
            unit: UNIT.watt,
            stacked: true,
            w: 12,
            h: 8,
            targets: [
              influxql(
                'A',
                `SELECT sum("ac_power_w_mean") FROM "hourly"."telemetry" WHERE $timeFilter AND ${IN_PROVINCES} ` +
                  `GROUP BY ${TEHRAN_BUCKETS.hourly}, "province" fill(none)`,
                { shape: 'series' },
                { alias: '$tag_province' },
              ),
            ],
          }),
        )
        .withPanel(
          timeseries({
            title: 'Energy per day by province',
            description:
              'Counter increase per Tehran day (daily rollup) over the last 7 days whatever the dashboard’s ' +
              'range, by province, in kWh. The first day has no earlier counter to subtract from and shows no bar.',
            unit: UNIT.kwh,
            bars: true,
            stacked: true,
            w: 12,
            h: 8,
            targets: [
              influxql(
                'A',
                `SELECT sum("wh") / 1000 FROM (` +
                  `${counterIncrease('daily', `$timeFilter AND ${IN_PROVINCES}`, '"serial", "province"')}) WHERE ` +
                  `$timeFilter GROUP BY ${TEHRAN_BUCKETS.daily}, "province" fill(none)`,
                { shape: 'series' },
                { alias: '$tag_province' },
              ),
            ],
          }).timeFrom('7d'),
        )
        .withPanel(
          table({
            title: 'Specific yield this Solar Hijri month by province',
            description:
              'Counter increase this month (InfluxDB) divided by the commissioned DC capacity (PostgreSQL), in ' +
              'kWh per kWp. A province well below its neighbours is losing energy to soiling, faults or outages. ' +
              'Iran’s typical year is 1,450–1,900 kWh/kWp.',
            unit: UNIT.specificYield,
            columnUnits: { kWh: UNIT.kwh, kWp: 'suffix: kWp' },
            w: 12,
            h: 10,
            targets: [
              influxql(
                'A',
                `SELECT sum("wh") / 1000 AS "kWh" FROM (` +
                  `${counterIncrease('daily', `time >= \${month_start}ms - 1d AND ${IN_PROVINCES}`, '"serial", "province"')}) GROUP BY "province"`,
                { shape: 'table', columns: ['province', 'kWh'], minRows: 1 },
              ),
              sql(
                'B',
                `SELECT p.code AS "province", p.name_en AS "Province", sum(i.dc_capacity_kwp)::float AS "kWp"
FROM installations i JOIN provinces p ON p.id = i.province_id
WHERE i.status = 'COMMISSIONED' AND p.code IN ($province)
GROUP BY p.code, p.name_en`,
                { shape: 'table', columns: ['province', 'Province', 'kWp'], minRows: 1 },
              ),
            ],
          })
            .withTransformation({ id: 'joinByField', options: { byField: 'province', mode: 'inner' } })
            .withTransformation({
              id: 'calculateField',
              options: {
                mode: 'binary',
                binary: { left: 'kWh', operator: '/', right: 'kWp' },
                alias: 'kWh/kWp',
                replaceFields: false,
              },
            })
            .withTransformation({
              id: 'organize',
              options: { excludeByName: { Time: true, province: true }, indexByName: {}, renameByName: {} },
            })
            .withTransformation({ id: 'sortBy', options: { sort: [{ field: 'kWh/kWp', desc: false }] } }),
        )
        .withPanel(
          table({
            title: 'Inverters offline',
            description:
              'Inverters whose connection the broker reported lost (their last will) and that have not reconnected, with the time the status changed.',
            unit: UNIT.text,
            w: 12,
            h: 10,
            targets: [
              influxql(
                'A',
                `SELECT "online" FROM (SELECT last("online") AS "online" FROM "raw"."device_status" WHERE ` +
                  `${IN_PROVINCES} GROUP BY "serial", "installation", "province") WHERE "online" = false GROUP BY "serial", "installation", "province"`,
                { shape: 'table', columns: ['serial', 'installation', 'province', 'online'], minRows: 1 },
              ),
            ],
          }),
        ),
    );
  },
};
