// Installation: one site, chosen by province → installation → inverters. Is it producing what its
// peers do, what happened to it, what did its month bill, and who gets the money? Audience:
// operators and technicians looking into one site.
import { VariableSort } from '@grafana/grafana-foundation-sdk/dashboard';
import { TEHRAN_BUCKETS } from '../../lib/influx/layout';
import { counterIncrease } from './energy';
import { provinceVariable } from './fleet';
import { type DashboardSpec, finish, influxql, queryVariable, solarDashboard, sql } from './grafana';
import { stat, stateTimeline, table, timeseries, UNIT } from './panels';

const SITE = `"installation" = '$installation' AND "serial" =~ /^$inverter$/`;

export function monthVariable() {
  return queryVariable(
    'month',
    'Billing month',
    'postgres',
    'SELECT month AS "month" FROM billing_months ORDER BY month DESC',
    {
      description: 'A Solar Hijri billing month (YYYY-MM, e.g. 1405-08 is Aban 1405); the latest is first.',
      expect: { shape: 'table', columns: ['month'], minRows: 1 },
    },
  ).sort(VariableSort.AlphabeticalDesc);
}

const hidden = (name: string, label: string, query: string, description: string) =>
  queryVariable(name, label, 'postgres', query, { hide: true, description });

export const installation: DashboardSpec = {
  uid: 'solar-installation',
  folder: 'Operations',
  build: () =>
    finish(
      solarDashboard(
        'solar-installation',
        'Installation',
        'One installation: power and energy per inverter, states and events, actual against expected energy, the ' +
          'month’s bill and its beneficiaries’ shares, and its alerts.',
        ['influx', 'postgres'],
        { from: 'now-7d' },
      )
        .withVariable(provinceVariable())
        .withVariable(
          queryVariable(
            'installation',
            'Installation',
            'postgres',
            `SELECT i.code AS __value, i.code || ' — ' || i.name AS __text FROM installations i JOIN provinces p ` +
              `ON p.id = i.province_id WHERE p.code IN ($province) ORDER BY i.code`,
            {
              description: 'The installation (its code is the InfluxDB tag), from the selected provinces.',
              expect: { shape: 'table', columns: ['__value', '__text'], minRows: 1 },
            },
          ),
        )
        .withVariable(
          queryVariable(
            'inverter',
            'Inverters',
            'postgres',
            `SELECT v.serial AS "serial" FROM inverters v JOIN installations i ON i.id = v.installation_id WHERE i.code = '$installation' ORDER BY v.serial`,
            {
              multi: true,
              includeAll: true,
              description: 'Inverters of the installation to show.',
              expect: { shape: 'table', columns: ['serial'], minRows: 1 },
            },
          ),
        )
        .withVariable(monthVariable())
        .withVariable(
          hidden(
            'kwp',
            'DC capacity (kWp)',
            `SELECT dc_capacity_kwp::float AS "kwp" FROM installations WHERE code = '$installation'`,
            'The installation’s DC capacity, for its expected energy.',
          ),
        )
        .withVariable(
          hidden(
            'site_province',
            'Province of the installation',
            `SELECT p.code AS "province" FROM installations i JOIN provinces p ON p.id = i.province_id WHERE i.code = '$installation'`,
            'The installation’s province: its peers for the expected energy.',
          ),
        )
        .withVariable(
          hidden(
            'province_kwp',
            'Commissioned DC capacity of the province (kWp)',
            `SELECT coalesce(sum(i.dc_capacity_kwp), 0)::float AS "kwp" FROM installations i JOIN provinces p ON ` +
              `p.id = i.province_id WHERE p.code = '$site_province' AND i.status = 'COMMISSIONED'`,
            'Commissioned capacity of the installation’s province, to turn the province’s energy into kWh per kWp.',
          ),
        )
        .withPanel(
          table({
            title: 'Installation',
            description:
              'Registry facts: code, province, DC and AC capacity, commissioning date, status and inverters.',
            unit: UNIT.text,
            columnUnits: { 'DC kWp': 'suffix: kWp', 'AC kW': 'suffix: kW' },
            w: 24,
            h: 4,
            targets: [
              sql(
                'A',
                `SELECT i.code AS "Code", i.name AS "Name", p.name_en AS "Province", i.dc_capacity_kwp::float AS "DC kWp",
  i.ac_rating_kw::float AS "AC kW", to_char(i.commissioned_on, 'YYYY-MM-DD') AS "Commissioned on", i.status::text AS "Status",
  (SELECT count(*) FROM inverters v WHERE v.installation_id = i.id AND v.status = 'ACTIVE') AS "Active inverters"
FROM installations i JOIN provinces p ON p.id = i.province_id
WHERE i.code = '$installation'`,
                { shape: 'table', columns: ['Code', 'Province', 'DC kWp', 'Status'], minRows: 1 },
              ),
            ],
          }),
        )
        .withPanel(
          timeseries({
            title: 'AC power per inverter',
            description: 'Mean AC power per interval, per inverter, in W.',
            unit: UNIT.watt,
            w: 16,
            h: 8,
            targets: [
              influxql(
                'A',
                `SELECT mean("ac_power_w") FROM "raw"."telemetry" WHERE ${SITE} AND $timeFilter GROUP BY time($__interval), "serial" fill(null)`,
                { shape: 'series' },
                { alias: '$tag_serial' },
              ),
            ],
          }),
        )
        .withPanel(
          stat({
            title: 'Energy in the time range',
            description:
              'Increase of the selected inverters’ lifetime counters over the time range (hourly rollup), in ' +
              'kWh; the range’s first hour has no earlier counter and is left out.',
            unit: UNIT.kwh,
            decimals: 1,
            w: 8,
            h: 8,
            targets: [
              influxql('A', `SELECT sum("wh") / 1000 FROM (${counterIncrease('hourly', `${SITE} AND $timeFilter`)})`, {
                shape: 'value',
              }),
            ],
          }),
        )
        .withPanel(
          timeseries({
            title: 'Energy per day: actual and expected',
            description:
              'Actual: the installation’s counter increase per Tehran day. Expected: what its province produced ' +
              'per commissioned kWp that day × this installation’s kWp. Actual well below expected on sunny days ' +
              'means soiling, a fault or an outage. In kWh; the range’s first day shows no bar.',
            unit: UNIT.kwh,
            bars: true,
            w: 12,
            h: 8,
            targets: [
              influxql(
                'A',
                `SELECT sum("wh") / 1000 AS "actual" FROM (` +
                  `${counterIncrease('daily', `"installation" = '$installation' AND $timeFilter`)}) WHERE ` +
                  `$timeFilter GROUP BY ${TEHRAN_BUCKETS.daily} fill(none)`,
                { shape: 'series' },
                { alias: 'actual' },
              ),
              influxql(
                'B',
                `SELECT sum("wh") / 1000 / $province_kwp * $kwp AS "expected" FROM (` +
                  `${counterIncrease('daily', `"province" = '$site_province' AND $timeFilter`)}) WHERE $timeFilter ` +
                  `GROUP BY ${TEHRAN_BUCKETS.daily} fill(none)`,
                { shape: 'series' },
                { alias: 'expected' },
              ),
            ],
          }),
        )
        .withPanel(
          stateTimeline({
            title: 'Inverter states',
            description:
              'Reported operating state over time (MPPT producing, THROTTLED curtailed or clipped, SLEEPING at night, FAULT).',
            unit: UNIT.text,
            w: 12,
            h: 8,
            targets: [
              influxql(
                'A',
                `SELECT last("state") FROM "raw"."telemetry" WHERE ${SITE} AND $timeFilter GROUP BY time($__interval), "serial" fill(none)`,
                { shape: 'series' },
                { alias: '$tag_serial' },
              ),
            ],
          }),
        )
        .withPanel(
          table({
            title: 'Events',
            description: 'Readings that carried events (e.g. GROUND_FAULT, COUNTER_RESET), newest first.',
            unit: UNIT.text,
            columnUnits: { ac_power_w: UNIT.watt },
            w: 12,
            h: 8,
            targets: [
              influxql(
                'A',
                `SELECT "events", "state", "ac_power_w" FROM "raw"."telemetry" WHERE ${SITE} AND "events" <> '' ` +
                  `AND $timeFilter GROUP BY "serial" ORDER BY time DESC LIMIT 200`,
                { shape: 'table', columns: ['serial', 'events', 'state', 'ac_power_w'], minRows: 1 },
              ),
            ],
          }),
        )
        .withPanel(
          table({
            title: 'Connection status changes',
            description: 'Online/offline as the broker reported it (offline is the device’s last will), newest first.',
            unit: UNIT.text,
            w: 12,
            h: 8,
            targets: [
              influxql(
                'A',
                `SELECT "online" FROM "raw"."device_status" WHERE ${SITE} AND $timeFilter GROUP BY "serial" ORDER BY time DESC LIMIT 200`,
                { shape: 'table', columns: ['serial', 'online'], mayBeEmpty: true },
              ),
            ],
          }),
        )
        .withPanel(
          table({
            title: 'Bill of the month',
            description:
              'The installation’s bill for the selected billing month: energy from the counters, gross income, ' +
              'adjustments for late data, loan and fee deductions, net, the part of the net no share held ' +
              '(program pool), and whether an implausible counter holds it for an operator’s decision.',
            unit: UNIT.rials,
            columnUnits: { Energy: UNIT.kwh, Incomplete: UNIT.text, Held: UNIT.text, 'Month status': UNIT.text },
            w: 24,
            h: 4,
            targets: [
              sql(
                'A',
                `SELECT b.energy_wh / 1000.0 AS "Energy", b.gross_rials AS "Gross", b.adjustment_rials AS "Adjustments",
  b.income_rials AS "Income", b.loan_rials AS "Loan", b.fee_rials AS "Fee", b.net_rials AS "Net",
  b.pool_rials AS "Pool", b.incomplete AS "Incomplete", b.implausible AS "Held", m.status AS "Month status"
FROM installation_bills b
JOIN installations i ON i.id = b.installation_id
JOIN billing_months m ON m.month = b.month
WHERE b.month = '$month' AND i.code = '$installation'`,
                { shape: 'table', columns: ['Energy', 'Gross', 'Net', 'Pool', 'Month status'], minRows: 1 },
              ),
            ],
          }),
        )
        .withPanel(
          table({
            title: 'Beneficiaries’ shares and their part of the month',
            description:
              'Shares of the installation in force during the month (weight in W of capacity, validity), the ' +
              'days each was active and the Rials its statement line allocated. Beneficiaries are shown by id ' +
              'only: names and national codes stay out of Grafana.',
            unit: UNIT.rials,
            columnUnits: {
              Beneficiary: UNIT.text,
              'Target group': UNIT.text,
              Share: UNIT.watt,
              'Valid from': UNIT.text,
              'Valid until': UNIT.text,
              'Active days': UNIT.count,
            },
            w: 24,
            h: 8,
            targets: [
              sql(
                'A',
                `SELECT s.beneficiary_id AS "Beneficiary", b.target_group AS "Target group", s.weight_w AS "Share",
  to_char(s.valid_from, 'YYYY-MM-DD') AS "Valid from", to_char(s.valid_until, 'YYYY-MM-DD') AS "Valid until", ` +
                  `sl.active_days AS "Active days", sl.rials AS "Rials"
FROM shares s
JOIN installations i ON i.id = s.installation_id
JOIN beneficiaries b ON b.id = s.beneficiary_id
LEFT JOIN statement_lines sl ON sl.share_id = s.id AND sl.month = '$month'
WHERE i.code = '$installation'
ORDER BY s.beneficiary_id, s.valid_from`,
                { shape: 'table', columns: ['Beneficiary', 'Share', 'Active days', 'Rials'], minRows: 1 },
              ),
            ],
          }),
        )
        .withPanel(
          table({
            title: 'Alerts',
            description:
              'The installation’s alerts, and area outages in its province, that are open now or were opened in ' +
              'the time range: state, what, the income at risk per day and who has it.',
            unit: UNIT.text,
            columnUnits: { 'Rials/day at risk': UNIT.rials, Opened: 'dateTimeAsLocal', Closed: 'dateTimeAsLocal' },
            w: 24,
            h: 8,
            targets: [
              sql(
                'A',
                `SELECT a.opened_at AS "Opened", a.closed_at AS "Closed", a.state::text AS "State", a.severity::text AS "Severity",
  a.rule::text AS "Rule", a.cause AS "Cause", a.summary AS "Summary", a.lost_rials_per_day AS "Rials/day at risk",
  a.assigned_to AS "Assigned to"
FROM alerts a, installations i
WHERE i.code = '$installation'
  AND (a.installation_id = i.id OR (a.rule = 'AREA_OUTAGE' AND a.province_id = i.province_id))
  AND (a.state IN ('OPEN', 'ACKNOWLEDGED') OR $__timeFilter(a.opened_at))
ORDER BY a.opened_at DESC
LIMIT 200`,
                { shape: 'table', columns: ['Opened', 'State', 'Rule', 'Rials/day at risk'], minRows: 1 },
              ),
            ],
          }),
        ),
    ),
};
