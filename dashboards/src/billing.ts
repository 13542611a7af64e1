// Billing: what each Solar Hijri month earned, deducted, allocated and paid, and what needs an
// operator before a month closes (installations with missing data, late-data adjustments); each
// plant loan's balance.
// Audience: the program's finance staff.
import { LOAN_REPAID_SQL } from '../../billing';
import { type DashboardSpec, finish, solarDashboard, sql } from './grafana';
import { monthVariable } from './installation';
import { barchart, stat, table, UNIT } from './panels';

/**
 * One row per billing month, its installations' bills summed as billing's month report sums them:
 * adjustments (late data for closed months, settlement differences carried) and deductions (loan
 * and fee lines). Net is gross + adjustments + what a negative balance carried in, less deductions
 * (billing/README.md).
 */
const MONTHS = `SELECT m.month AS "Month", m.status::text AS "Status", m.installations AS "Installations",
  m.beneficiaries AS "Beneficiaries", m.energy_wh / 1000.0 AS "Energy", m.gross_rials AS "Gross",
  coalesce(d.adjustments, 0) AS "Adjustments", coalesce(d.deductions, 0) AS "Deductions", m.net_rials AS "Net", m.pool_rials AS "Pool",
  m.payable_rials AS "Payable", CASE WHEN pb.status = 'PAID' THEN pb.total_rials ELSE 0 END AS "Paid",
  m.incomplete AS "Incomplete installations", m.implausible AS "Held installations"
FROM billing_months m
LEFT JOIN (SELECT month, sum(adjustment_rials) AS adjustments, sum(loan_rials + fee_rials) AS deductions
  FROM installation_bills GROUP BY month) d ON d.month = m.month
LEFT JOIN payout_batches pb ON pb.month = m.month`;

export const billing: DashboardSpec = {
  uid: 'solar-billing',
  folder: 'Program',
  build: () =>
    finish(
      solarDashboard(
        'solar-billing',
        'Billing',
        'Per Solar Hijri month: gross income, deductions, net, program pool, payable and paid; installations ' +
          'held for implausible counters or with incomplete data; late-data adjustments.',
        ['postgres'],
        { from: 'now-1y', refresh: '15m' },
      )
        .withVariable(monthVariable())
        .withPanel(
          stat({
            title: 'The month in Rials',
            description:
              'For the selected month: gross income from the counters, adjustments (energy that arrived after its ' +
              'month closed, settlement differences carried), loan and fee deductions, net income (after ' +
              'adjustments, a negative balance carried in and deductions), the program pool (capacity no share ' +
              'held), payable to beneficiaries (after carry-overs below the minimum payout), and paid (once the ' +
              'payout batch is marked paid).',
            unit: UNIT.rials,
            w: 24,
            h: 5,
            targets: [
              sql(
                'A',
                `SELECT "Gross", "Adjustments", "Deductions", "Net", "Pool", "Payable", "Paid" FROM (${MONTHS}) months WHERE "Month" = '$month'`,
                {
                  shape: 'table',
                  columns: ['Gross', 'Adjustments', 'Deductions', 'Net', 'Pool', 'Payable', 'Paid'],
                  minRows: 1,
                },
              ),
            ],
          }),
        )
        .withPanel(
          barchart({
            title: 'Gross, adjustments, deductions, net and pool per month',
            description: 'The last 12 billing months side by side, in Rials.',
            unit: UNIT.rials,
            xField: 'Month',
            w: 24,
            h: 8,
            targets: [
              sql(
                'A',
                `SELECT "Month", "Gross", "Adjustments", "Deductions", "Net", "Pool" FROM (${MONTHS} ORDER BY m.month DESC LIMIT 12) months ORDER BY "Month"`,
                { shape: 'table', columns: ['Month', 'Gross', 'Adjustments', 'Deductions', 'Net', 'Pool'], minRows: 1 },
              ),
            ],
          }),
        )
        .withPanel(
          table({
            title: 'Billing months',
            description:
              'Every billing month: status (DRAFT, CLOSED, PAID), counts, energy in kWh and the money figures in Rials.',
            unit: UNIT.rials,
            columnUnits: {
              Month: UNIT.text,
              Status: UNIT.text,
              Installations: UNIT.count,
              Beneficiaries: UNIT.count,
              Energy: UNIT.kwh,
              'Incomplete installations': UNIT.count,
              'Held installations': UNIT.count,
            },
            w: 24,
            h: 8,
            targets: [
              sql('A', `${MONTHS}\nORDER BY m.month DESC`, {
                shape: 'table',
                columns: [
                  'Month',
                  'Status',
                  'Gross',
                  'Adjustments',
                  'Deductions',
                  'Net',
                  'Pool',
                  'Payable',
                  'Paid',
                  'Held installations',
                ],
                minRows: 1,
              }),
            ],
          }),
        )
        .withPanel(
          table({
            title: 'Held installations (implausible counters)',
            description:
              'Installations whose counter read more than the inverter’s rating could produce (a jump that did ' +
              'not come back, or more than rated power × time): that energy is held, not billed, and the month ' +
              'cannot close until an operator decides per inverter (npm run billing -- review, or the API): accept, correct or exclude.',
            unit: UNIT.text,
            columnUnits: { 'Energy billed': UNIT.kwh, 'Energy held': UNIT.kwh },
            w: 24,
            h: 7,
            targets: [
              sql(
                'A',
                `SELECT i.code AS "Installation", p.name_en AS "Province", b.energy_wh / 1000.0 AS "Energy billed",
  (SELECT coalesce(sum((c.counter ->> 'heldWh')::numeric), 0) FROM jsonb_each(b.detail -> 'counters') c(serial, counter)) / 1000.0 AS "Energy held",
  (SELECT string_agg(DISTINCT c.serial || ': ' || (f ->> 'kind'), ', ') FROM jsonb_each(b.detail -> 'counters') c(serial, counter),
     jsonb_array_elements(coalesce(c.counter -> 'flags', '[]'::jsonb)) f WHERE f ->> 'kind' IN ('counter_jump', 'over_capacity')) AS "Why"
FROM installation_bills b
JOIN installations i ON i.id = b.installation_id
JOIN provinces p ON p.id = i.province_id
WHERE b.month = '$month' AND b.implausible
ORDER BY i.code`,
                { shape: 'table', columns: ['Installation', 'Energy billed', 'Energy held', 'Why'], minRows: 1 },
              ),
            ],
          }),
        )
        .withPanel(
          table({
            title: 'Installations with incomplete data',
            description:
              'Installations billed without a counter reading on one side of the month (no_opening_reading, ' +
              'no_closing_reading, no_readings) or with other counter flags: their energy is what the counters ' +
              'prove so far; later readings are billed when they arrive.',
            unit: UNIT.text,
            columnUnits: { Energy: UNIT.kwh, Gross: UNIT.rials },
            w: 12,
            h: 9,
            targets: [
              sql(
                'A',
                `SELECT i.code AS "Installation", p.name_en AS "Province", b.energy_wh / 1000.0 AS "Energy", b.gross_rials AS "Gross",
  (SELECT string_agg(DISTINCT f ->> 'kind', ', ') FROM jsonb_each(b.detail -> 'counters') c(serial, counter),
     jsonb_array_elements(coalesce(c.counter -> 'flags', '[]'::jsonb)) f) AS "Reasons"
FROM installation_bills b
JOIN installations i ON i.id = b.installation_id
JOIN provinces p ON p.id = i.province_id
WHERE b.month = '$month' AND b.incomplete
ORDER BY i.code`,
                { shape: 'table', columns: ['Installation', 'Province', 'Energy', 'Reasons'], minRows: 1 },
              ),
            ],
          }),
        )
        .withPanel(
          table({
            title: 'Loans: repaid and balance',
            description:
              "Each plant loan: its principal, what closed months' installments repaid (billing's own sum: a " +
              'draft repays nothing until its month closes), the balance still owed, the last closed month that ' +
              "repaid something, and that month's installment. Largest balances first.",
            unit: UNIT.rials,
            columnUnits: {
              Installation: UNIT.text,
              Loan: UNIT.text,
              'First due': UNIT.text,
              'Last repaid in': UNIT.text,
            },
            w: 24,
            h: 8,
            targets: [
              sql(
                'A',
                `SELECT i.code AS "Installation", l.reference AS "Loan", l.first_due_month AS "First due",
  l.principal_rials AS "Principal", ${LOAN_REPAID_SQL} AS "Repaid", l.principal_rials - ${LOAN_REPAID_SQL} AS "Balance",
  last.month AS "Last repaid in", last.deducted_rials AS "Last installment"
FROM loans l JOIN installations i ON i.id = l.installation_id
LEFT JOIN LATERAL (SELECT d.month, d.deducted_rials FROM loan_deductions d JOIN billing_months b ON b.month = d.month
  WHERE d.loan_id = l.id AND b.status <> 'DRAFT' AND d.deducted_rials > 0 ORDER BY d.month DESC LIMIT 1) last ON true
ORDER BY "Balance" DESC, i.code, l.reference`,
                {
                  shape: 'table',
                  columns: ['Installation', 'Loan', 'Principal', 'Repaid', 'Balance', 'Last repaid in'],
                  minRows: 1,
                },
              ),
            ],
          }),
        )
        .withPanel(
          table({
            title: 'Late-data adjustments',
            description:
              'Energy that arrived after an earlier month was closed, recognised in the selected month (closed ' +
              'months are never rewritten): for which month, how much, and at what value.',
            unit: UNIT.rials,
            columnUnits: { Installation: UNIT.text, 'For month': UNIT.text, Energy: UNIT.kwh },
            w: 12,
            h: 9,
            targets: [
              sql(
                'A',
                `SELECT i.code AS "Installation", a.for_month AS "For month", a.energy_wh / 1000.0 AS "Energy", a.rials AS "Rials"
FROM energy_adjustments a JOIN installations i ON i.id = a.installation_id
WHERE a.month = '$month'
ORDER BY abs(a.rials) DESC, i.code`,
                {
                  shape: 'table',
                  columns: ['Installation', 'For month', 'Energy', 'Rials'],
                  mayBeEmpty: true,
                },
              ),
            ],
          }),
        ),
    ),
};
