// Program: is the program on its way to 35 MW and 21,000 people with income, where, and what has it
// paid? Audience: the program's management. Figures match GET /progress (api/src/progress.ts).
import { FrameGeometrySourceMode } from '@grafana/grafana-foundation-sdk/common';
import { PanelBuilder as Geomap } from '@grafana/grafana-foundation-sdk/geomap';
import { TEHRAN_TIME_ZONE } from '../../lib/program/tehran-time';
import { type DashboardSpec, finish, solarDashboard, sql } from './grafana';
import { barchart, gauge, table, UNIT } from './panels';

export const PROGRAM_TARGET = { mw: 35, people: 21_000 };

/** Active beneficiaries holding a share today in a commissioned installation, by their province. */
const PEOPLE_BY_PROVINCE = `SELECT b.province_id, count(DISTINCT s.beneficiary_id) AS people
  FROM shares s
  JOIN beneficiaries b ON b.id = s.beneficiary_id AND b.status = 'ACTIVE'
  JOIN installations i ON i.id = s.installation_id AND i.status = 'COMMISSIONED'
  WHERE s.valid_from <= (now() AT TIME ZONE '${TEHRAN_TIME_ZONE}')::date
    AND (s.valid_until IS NULL OR s.valid_until > (now() AT TIME ZONE '${TEHRAN_TIME_ZONE}')::date)
  GROUP BY b.province_id`;

const byProvince = (withCoordinates: boolean) => `SELECT p.name_en AS "Province", p.name_fa AS "Persian name",
  count(i.id) AS "Installations",
  round(coalesce(sum(i.dc_capacity_kwp), 0) / 1000, 3) AS "MW commissioned",
  coalesce(max(pe.people), 0) AS "People with income"${withCoordinates ? ',\n  p.latitude::float AS "latitude", p.longitude::float AS "longitude"' : ''}
FROM provinces p
LEFT JOIN installations i ON i.province_id = p.id AND i.status = 'COMMISSIONED'
LEFT JOIN (${PEOPLE_BY_PROVINCE}) pe ON pe.province_id = p.id
GROUP BY p.id
ORDER BY "MW commissioned" DESC, p.name_en`;

export const program: DashboardSpec = {
  uid: 'solar-program',
  folder: 'Program',
  build: () =>
    finish(
      solarDashboard(
        'solar-program',
        'Program progress',
        'MW commissioned against 35 MW and people with income against 21,000, by province, and the income paid each Solar Hijri month.',
        ['postgres'],
        { from: 'now-1y', refresh: '15m' },
      )
        .withPanel(
          gauge({
            title: 'MW commissioned (target 35 MW)',
            description:
              'DC capacity of installations with status COMMISSIONED, in MW, against the program target of 35 MW.',
            unit: UNIT.megawatt,
            max: PROGRAM_TARGET.mw,
            decimals: 2,
            w: 6,
            h: 7,
            targets: [
              sql(
                'A',
                `SELECT round(coalesce(sum(dc_capacity_kwp), 0) / 1000, 3) AS "MW commissioned" FROM installations WHERE status = 'COMMISSIONED'`,
                { shape: 'value' },
              ),
            ],
          }),
        )
        .withPanel(
          gauge({
            title: 'People with income (target 21,000)',
            description:
              'Active beneficiaries holding a share today in a commissioned installation (as GET /progress counts them), against the target of 21,000.',
            unit: UNIT.count,
            max: PROGRAM_TARGET.people,
            decimals: 0,
            w: 6,
            h: 7,
            targets: [
              sql('A', `SELECT coalesce(sum(people), 0) AS "People with income" FROM (${PEOPLE_BY_PROVINCE}) pe`, {
                shape: 'value',
              }),
            ],
          }),
        )
        .withPanel(
          barchart({
            title: 'Income per Solar Hijri month (Rials)',
            description:
              'For each of the last 12 billing months: gross income from the counters, what was payable to ' +
              'beneficiaries, and what the bank transfer paid (0 until the payout batch is marked paid). A draft month moves until it is closed.',
            unit: UNIT.rials,
            xField: 'Month',
            w: 12,
            h: 7,
            targets: [
              sql(
                'A',
                `SELECT "Month", "Gross", "Payable", "Paid" FROM (
  SELECT m.month AS "Month", m.gross_rials AS "Gross", m.payable_rials AS "Payable",
         CASE WHEN pb.status = 'PAID' THEN pb.total_rials ELSE 0 END AS "Paid"
  FROM billing_months m LEFT JOIN payout_batches pb ON pb.month = m.month
  ORDER BY m.month DESC LIMIT 12) last_months
ORDER BY "Month"`,
                { shape: 'table', columns: ['Month', 'Gross', 'Payable', 'Paid'], minRows: 1 },
              ),
            ],
          }),
        )
        .withPanel(
          table({
            title: 'Progress by province',
            description:
              'Commissioned installations, their DC capacity in MW and the people with income, for each of the 31 provinces.',
            unit: UNIT.count,
            columnUnits: { 'MW commissioned': UNIT.megawatt },
            w: 12,
            h: 14,
            targets: [
              sql('A', byProvince(false), {
                shape: 'table',
                columns: ['Province', 'Persian name', 'Installations', 'MW commissioned', 'People with income'],
                minRows: 31,
              }),
            ],
          }),
        )
        .withPanel(
          new Geomap()
            .title('MW commissioned by province (map)')
            .description(
              "Each province at its capital's coordinates (lib/provinces.csv); the marker grows with the MW commissioned there.",
            )
            .unit(UNIT.megawatt)
            .span(12)
            .height(14)
            .withTarget(
              sql('A', byProvince(true), {
                shape: 'table',
                columns: ['Province', 'MW commissioned', 'People with income', 'latitude', 'longitude'],
                minRows: 31,
              }),
            )
            .view({ build: () => ({ id: 'coords', lat: 32.4, lon: 53.7, zoom: 4.6 }) })
            .basemap({ build: () => ({ type: 'default', name: 'Basemap' }) })
            .layers([
              {
                build: () => ({
                  type: 'markers',
                  name: 'Provinces',
                  location: { mode: FrameGeometrySourceMode.Coords, latitude: 'latitude', longitude: 'longitude' },
                  tooltip: true,
                  config: {
                    showLegend: true,
                    style: {
                      size: { field: 'MW commissioned', fixed: 5, min: 4, max: 30 },
                      color: { fixed: 'green' },
                      opacity: 0.6,
                      text: { mode: 'field', field: 'Province' },
                    },
                  },
                }),
              },
            ]),
        ),
    ),
};
