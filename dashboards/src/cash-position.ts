// Cash position: what the program promised and paid its beneficiaries (monthly, from telemetry)
// against what the distribution company settled and paid (two-monthly, from its meters), what is
// outstanding by settlement period and province, and the settlements that need someone.
// Audience: the program's finance staff. The same figures, with the billed value not yet settled,
// come from GET /settlements/cash-position (billing/README.md, "Two clocks"), from the same rows.
import { TEHRAN_TIME_ZONE } from '../../lib/program/tehran-time';
import { type DashboardSpec, finish, solarDashboard, sql } from './grafana';
import { barchart, stat, table, UNIT } from './panels';

/**
 * Unpaid SETTLEMENT_LATE_AFTER_DAYS after its period, a settlement is late: the days the API counts
 * with, which it records in billing's `settlement_policy` (billing/README.md, "Lateness").
 */
const LATE = `s.paid_on IS NULL AND s.period_until + (SELECT late_after_days FROM settlement_policy) < (now() AT TIME ZONE '${TEHRAN_TIME_ZONE}')::date`;
/** Settled, received, outstanding and late Rials of the settlements in scope. */
const RECEIVABLES = `sum(s.amount_rials) AS "Settled",
  coalesce(sum(s.amount_rials) FILTER (WHERE s.paid_on IS NOT NULL), 0) AS "Received",
  coalesce(sum(s.amount_rials) FILTER (WHERE s.paid_on IS NULL), 0) AS "Outstanding",
  coalesce(sum(s.amount_rials) FILTER (WHERE ${LATE}), 0) AS "Late"`;
/**
 * Billing's settlements with the figures in force (its `settlements_in_force` view: a corrected
 * settlement counts with its latest correction), the rows GET /settlements/cash-position sums.
 */
const IN_FORCE = 'settlements_in_force s';
const SETTLEMENTS = `${IN_FORCE} JOIN installations i ON i.id = s.installation_id JOIN provinces p ON p.id = i.province_id`;

const money = {
  Settled: UNIT.rials,
  Received: UNIT.rials,
  Outstanding: UNIT.rials,
  Late: UNIT.rials,
};

export const cashPosition: DashboardSpec = {
  uid: 'solar-cash',
  folder: 'Program',
  build: () =>
    finish(
      solarDashboard(
        'solar-cash',
        'Cash position',
        'What the program promised and paid its beneficiaries against what the distribution company settled and ' +
          'paid; receivables by period and province; settlements whose meter or money disagrees with telemetry.',
        ['postgres'],
        { from: 'now-1y', refresh: '15m' },
      )
        .withPanel(
          stat({
            title: 'Owed to beneficiaries and owed to the program',
            description:
              "Promised: payable on closed months' statements. Paid: payout batches marked paid. Settled: " +
              "what the distribution company's settlements say it owes; received: those it paid; outstanding: " +
              'settled, not paid; late: not paid SETTLEMENT_LATE_AFTER_DAYS (45 unless configured) days after their period.',
            unit: UNIT.rials,
            w: 24,
            h: 5,
            targets: [
              sql(
                'A',
                `SELECT (SELECT coalesce(sum(payable_rials), 0) FROM billing_months WHERE status <> 'DRAFT') AS "Promised",
  (SELECT coalesce(sum(total_rials), 0) FROM payout_batches WHERE status = 'PAID') AS "Paid to beneficiaries",
  coalesce(sum(s.amount_rials), 0) AS "Settled",
  coalesce(sum(s.amount_rials) FILTER (WHERE s.paid_on IS NOT NULL), 0) AS "Received",
  coalesce(sum(s.amount_rials) FILTER (WHERE s.paid_on IS NULL), 0) AS "Outstanding",
  coalesce(sum(s.amount_rials) FILTER (WHERE ${LATE}), 0) AS "Late"
FROM ${IN_FORCE}`,
                {
                  shape: 'table',
                  columns: ['Promised', 'Paid to beneficiaries', 'Settled', 'Received', 'Outstanding', 'Late'],
                  minRows: 1,
                },
              ),
            ],
          }),
        )
        .withPanel(
          barchart({
            title: 'Settled and received per settlement period',
            description: "Each of the distribution company's periods (first day), in Rials: settled and received.",
            unit: UNIT.rials,
            xField: 'Period',
            w: 24,
            h: 8,
            targets: [
              sql(
                'A',
                `SELECT to_char(s.period_from, 'YYYY-MM-DD') AS "Period", sum(s.amount_rials) AS "Settled",
  coalesce(sum(s.amount_rials) FILTER (WHERE s.paid_on IS NOT NULL), 0) AS "Received"
FROM ${IN_FORCE} GROUP BY s.period_from ORDER BY s.period_from`,
                { shape: 'table', columns: ['Period', 'Settled', 'Received'], minRows: 1 },
              ),
            ],
          }),
        )
        .withPanel(
          table({
            title: 'Receivables by settlement period',
            description:
              'Per period of the distribution company (Tehran dates, both days included): settlements, ' +
              'settled, received, outstanding and late (unpaid SETTLEMENT_LATE_AFTER_DAYS days after the period) Rials.',
            unit: UNIT.rials,
            columnUnits: { From: UNIT.text, To: UNIT.text, Settlements: UNIT.count, ...money },
            w: 12,
            h: 9,
            targets: [
              sql(
                'A',
                `SELECT to_char(s.period_from, 'YYYY-MM-DD') AS "From", to_char(s.period_until - 1, 'YYYY-MM-DD') AS "To",
  count(*) AS "Settlements", ${RECEIVABLES}
FROM ${SETTLEMENTS} GROUP BY s.period_from, s.period_until ORDER BY s.period_from DESC`,
                {
                  shape: 'table',
                  columns: ['From', 'To', 'Settlements', 'Settled', 'Received', 'Outstanding', 'Late'],
                  minRows: 1,
                },
              ),
            ],
          }),
        )
        .withPanel(
          table({
            title: 'Receivables by province',
            description: 'Per province: settled, received, outstanding and late Rials over all settlement periods.',
            unit: UNIT.rials,
            columnUnits: { Province: UNIT.text, ...money },
            w: 12,
            h: 9,
            targets: [
              sql(
                'A',
                `SELECT p.name_en AS "Province", ${RECEIVABLES} FROM ${SETTLEMENTS} GROUP BY p.name_en ORDER BY "Late" DESC, "Outstanding" DESC`,
                { shape: 'table', columns: ['Province', 'Settled', 'Received', 'Outstanding', 'Late'], minRows: 1 },
              ),
            ],
          }),
        )
        .withPanel(
          table({
            title: 'Settlements that disagree with telemetry',
            description:
              'Reconciled settlements outside tolerance, largest money difference first: an export meter below ' +
              'telemetry (a technician is alerted), above it, a money difference with agreeing energy, or ' +
              'telemetry still missing. Meter vs telemetry in per cent; Rials settled and billed from telemetry.',
            unit: UNIT.rials,
            columnUnits: {
              Installation: UNIT.text,
              Province: UNIT.text,
              From: UNIT.text,
              Reference: UNIT.text,
              Status: UNIT.text,
              'Meter vs telemetry': UNIT.percent,
              'Paid on': UNIT.text,
            },
            w: 24,
            h: 9,
            targets: [
              sql(
                'A',
                `SELECT i.code AS "Installation", p.name_en AS "Province", to_char(s.period_from, 'YYYY-MM-DD') AS "From",
  s.reference AS "Reference", s.status::text AS "Status",
  round(100.0 * (s.metered_wh - s.telemetry_wh) / nullif(s.telemetry_wh, 0), 1) AS "Meter vs telemetry",
  s.amount_rials AS "Settled", s.billed_rials AS "Billed", to_char(s.paid_on, 'YYYY-MM-DD') AS "Paid on"
FROM ${SETTLEMENTS} WHERE s.status IS NOT NULL AND s.status <> 'WITHIN_TOLERANCE'
ORDER BY abs(s.amount_rials - coalesce(s.billed_rials, 0)) DESC LIMIT 200`,
                {
                  shape: 'table',
                  columns: [
                    'Installation',
                    'Province',
                    'From',
                    'Reference',
                    'Status',
                    'Meter vs telemetry',
                    'Settled',
                    'Billed',
                    'Paid on',
                  ],
                  minRows: 1,
                },
              ),
            ],
          }),
        ),
    ),
};
