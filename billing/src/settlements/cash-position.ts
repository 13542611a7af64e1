// The program's cash position across the two clocks: what closed months promised beneficiaries and
// what was paid to them, against what the distribution company settled and what actually arrived.
// Everything is whole Rials from the ledger. `unsettled` is the billed value of closed months that no
// settlement covers yet: exact against reconciled settlements (each records what every month
// contributed to it), prorated by days against one not reconciled yet.
import type pg from 'pg';
import { settlementTimeliness } from '../core/reconcile-settlement';
import { monthDays } from '../../../lib/program/solar-hijri';
import { CLOSED_MONTHS_BILLED_SQL } from './billed-months';

export interface ReceivableLine {
  settledRials: bigint;
  receivedRials: bigint;
  /** Settled, not yet paid, within the grace days after the period. */
  dueRials: bigint;
  /** Settled, not paid, past the grace days. */
  lateRials: bigint;
}
export interface ProvinceReceivables extends ReceivableLine {
  province: string;
  /** Billed in closed months, not covered by any settlement yet; `unsettledLateRials` is past the grace days. */
  unsettledRials: bigint;
  unsettledLateRials: bigint;
}
export interface PeriodReceivables extends ReceivableLine {
  periodFrom: string;
  periodUntil: string;
  settlements: number;
}
/** A correction of a paid settlement: the reversal of the figures in force and the new entry. */
export interface CorrectionLine {
  id: number;
  settlementId: number;
  installationCode: string;
  periodFrom: string;
  periodUntil: string;
  reference: string;
  correctedOn: string;
  reversedRials: bigint;
  newRials: bigint;
  reason: string;
}
export interface CashPosition {
  asOf: string;
  /** Payable to beneficiaries on closed months' statements, and what payout batches marked paid sent. */
  promisedRials: bigint;
  paidToBeneficiariesRials: bigint;
  owedToBeneficiariesRials: bigint;
  /** Closed months: gross value of the energy, the program pool, loan and fee deductions. */
  billedGrossRials: bigint;
  poolRials: bigint;
  deductionsRials: bigint;
  settledRials: bigint;
  receivedRials: bigint;
  receivableRials: bigint;
  receivableLateRials: bigint;
  unsettledRials: bigint;
  unsettledLateRials: bigint;
  /** Settled − billed on reconciled settlements: absorbed by the program, or carried to beneficiaries. */
  absorbedDifferenceRials: bigint;
  carriedDifferenceRials: bigint;
  /** Settled − billed on settlements not reconciled yet or waiting for telemetry: not a difference yet. */
  pendingDifferenceRials: bigint;
  /** Beneficiaries' totals below the minimum payout, carried at their latest closed statement: owed to them. */
  beneficiariesCarriedRials: bigint;
  /** Fees charged when the income could not cover them, carried in the installation's balance. */
  feesCarriedRials: bigint;
  /** Installations' balances at their latest closed bill (≤ 0): what later income has still to recover. */
  installationBalancesRials: bigint;
  /** What reconciled settlements priced from months not closed yet (provisional: on no statement yet). */
  billedInOpenMonthsRials: bigint;
  /** Corrections of paid settlements: what they reversed and what they entered instead (both in settled and received). */
  reversedRials: bigint;
  correctedRials: bigint;
  corrections: CorrectionLine[];
  /** Received − paid to beneficiaries: the program's cash from this flow. */
  cashRials: bigint;
  /** Cash + receivables (settled or not) − owed to beneficiaries: below zero, the program cannot pay what it promised. */
  coverageRials: bigint;
  byProvince: ProvinceReceivables[];
  byPeriod: PeriodReceivables[];
}

const big = (v: string | null | undefined) => BigInt(v ?? 0);
const emptyLine = (): ReceivableLine => ({ settledRials: 0n, receivedRials: 0n, dueRials: 0n, lateRials: 0n });

export async function cashPosition(
  db: pg.Pool | pg.ClientBase,
  today: string,
  lateAfterDays: number,
): Promise<CashPosition> {
  const months = await db.query<{ month: string; pool: string; payable: string }>(
    `SELECT month, pool_rials AS pool, payable_rials AS payable FROM billing_months WHERE status <> 'DRAFT' ORDER BY month`,
  );
  const closed = months.rows.map((m) => m.month);
  const ledger = await db.query<{
    gross: string | null;
    deductions: string | null;
    fees_carried: string | null;
    paid: string | null;
    beneficiaries_carried: string | null;
    balances: string | null;
    open_months: string | null;
  }>(
    `SELECT (SELECT sum(gross_rials) FROM installation_bills WHERE month = ANY($1)) AS gross,
            (SELECT sum(loan_rials + fee_rials) FROM installation_bills WHERE month = ANY($1)) AS deductions,
            (SELECT sum((detail ->> 'feeCarriedRials')::bigint) FROM installation_bills WHERE month = ANY($1)) AS fees_carried,
            (SELECT sum(total_rials) FROM payout_batches WHERE status = 'PAID') AS paid,
            (SELECT sum(carried_out_rials) FROM (SELECT DISTINCT ON (beneficiary_id) carried_out_rials FROM statements
                WHERE month = ANY($1) ORDER BY beneficiary_id, month DESC) latest) AS beneficiaries_carried,
            (SELECT sum(balance_out_rials) FROM (SELECT DISTINCT ON (installation_id) balance_out_rials FROM installation_bills
                WHERE month = ANY($1) ORDER BY installation_id, month DESC) latest) AS balances,
            (SELECT sum((part ->> 'rials')::bigint) FROM utility_settlements s
                    CROSS JOIN LATERAL jsonb_array_elements(s.detail -> 'months') part
              WHERE s.detail ? 'months' AND NOT (part ->> 'month') = ANY($1)) AS open_months`,
    [closed],
  );
  const settlements = await db.query<{
    province: string;
    period_from: string;
    period_until: string;
    amount_rials: string;
    paid_on: string | null;
    billed_rials: string | null;
    status: string | null;
    carried: string;
  }>(
    `SELECT i.province_code AS province, to_char(s.period_from, 'YYYY-MM-DD') AS period_from,
            to_char(s.period_until, 'YYYY-MM-DD') AS period_until, s.amount_rials, to_char(s.paid_on, 'YYYY-MM-DD') AS paid_on,
            s.billed_rials, s.status,
            COALESCE((SELECT sum(a.rials) FROM settlement_adjustments a JOIN billing_months b ON b.month = a.month
                       WHERE a.settlement_id = s.id AND b.status <> 'DRAFT'), 0) AS carried
       -- The amount in force (billing/README.md, "Corrections").
       FROM settlements_in_force s JOIN installation_summaries i ON i.id = s.installation_id`,
  );
  // Closed months' billed value (the ledger's: gross + late-data adjustments) not covered by a
  // settlement, by province. A reconciled settlement records what each month contributed to it, so
  // the two add up to the month to the Rial; one not reconciled yet covers its days' share (rounded).
  const spans = closed.map((m) => {
    const days = monthDays(m);
    return { month: m, from: days[0]!.date, until: days[days.length - 1]!.date, days: days.length };
  });
  const unsettled = await db.query<{ province: string; late: boolean; rials: string }>(
    `WITH m AS (SELECT * FROM unnest($1::text[], $2::date[], $3::date[], $4::int[]) AS m(month, "from", until, days)),
          billed AS (SELECT * FROM (${CLOSED_MONTHS_BILLED_SQL}) b WHERE month = ANY($1)),
          covered AS (
            SELECT s.installation_id, part ->> 'month' AS month, (part ->> 'rials')::bigint AS rials
              FROM utility_settlements s CROSS JOIN LATERAL jsonb_array_elements(s.detail -> 'months') part
             WHERE s.detail ? 'months'
            UNION ALL
            SELECT s.installation_id, m.month,
                   b.rials * (LEAST(s.period_until, m.until + 1) - GREATEST(s.period_from, m."from")) / m.days
              FROM utility_settlements s JOIN m ON s.period_from <= m.until AND s.period_until > m."from"
              JOIN billed b ON b.installation_id = s.installation_id AND b.month = m.month
             WHERE s.detail IS NULL OR NOT s.detail ? 'months')
     SELECT i.province_code AS province, m.until + $5::int < $6::date AS late, sum(b.rials - COALESCE(c.rials, 0)) AS rials
       FROM billed b JOIN m ON m.month = b.month
       JOIN installation_summaries i ON i.id = b.installation_id
       LEFT JOIN (SELECT installation_id, month, sum(rials) AS rials FROM covered GROUP BY 1, 2) c
              ON c.installation_id = b.installation_id AND c.month = b.month
      GROUP BY i.province_code, late`,
    [
      spans.map((s) => s.month),
      spans.map((s) => s.from),
      spans.map((s) => s.until),
      spans.map((s) => s.days),
      lateAfterDays,
      today,
    ],
  );

  const byProvince = new Map<string, ProvinceReceivables>();
  const province = (code: string) => {
    let line = byProvince.get(code);
    if (!line) {
      line = { province: code, ...emptyLine(), unsettledRials: 0n, unsettledLateRials: 0n };
      byProvince.set(code, line);
    }
    return line;
  };
  const byPeriod = new Map<string, PeriodReceivables>();
  let absorbed = 0n;
  let carried = 0n;
  let pending = 0n;
  for (const s of settlements.rows) {
    const amount = big(s.amount_rials);
    const timeliness = settlementTimeliness(s.period_until, s.paid_on, today, lateAfterDays);
    const key = `${s.period_from}/${s.period_until}`;
    const period =
      byPeriod.get(key) ??
      byPeriod
        .set(key, { periodFrom: s.period_from, periodUntil: s.period_until, settlements: 0, ...emptyLine() })
        .get(key)!;
    period.settlements++;
    for (const line of [province(s.province), period]) {
      line.settledRials += amount;
      if (timeliness === 'paid') line.receivedRials += amount;
      else if (timeliness === 'due') line.dueRials += amount;
      else line.lateRials += amount;
    }
    // Missing telemetry is not a difference: late data, not the program, settles it.
    const difference = amount - big(s.billed_rials);
    if (s.status !== null && s.status !== 'TELEMETRY_MISSING') {
      carried += big(s.carried);
      absorbed += difference - big(s.carried);
    } else pending += difference;
  }
  // Each correction reverses the figures in force and enters new ones (counted above through the amount in force).
  const corrections = await db.query<{
    id: number;
    settlement_id: number;
    installation_code: string;
    period_from: string;
    period_until: string;
    reference: string;
    corrected_on: string;
    reversed: string;
    amount: string;
    reason: string;
  }>(
    `SELECT c.id, c.settlement_id, i.code AS installation_code,
            to_char(s.period_from, 'YYYY-MM-DD') AS period_from, to_char(s.period_until, 'YYYY-MM-DD') AS period_until,
            c.reference, to_char(c.corrected_on, 'YYYY-MM-DD') AS corrected_on, c.reversed_amount_rials AS reversed,
            c.amount_rials AS amount, c.reason
       FROM settlement_corrections c JOIN utility_settlements s ON s.id = c.settlement_id
       JOIN installation_summaries i ON i.id = s.installation_id
      ORDER BY c.id`,
  );
  let reversed = 0n;
  let corrected = 0n;
  for (const c of corrections.rows) {
    reversed += big(c.reversed);
    corrected += big(c.amount);
  }
  for (const u of unsettled.rows) {
    const line = province(u.province);
    line.unsettledRials += big(u.rials);
    if (u.late) line.unsettledLateRials += big(u.rials);
  }
  const provinces = [...byProvince.values()].sort((a, b) => a.province.localeCompare(b.province));
  const sum = (pick: (p: ProvinceReceivables) => bigint) => provinces.reduce((s, p) => s + pick(p), 0n);
  const promised = months.rows.reduce((s, m) => s + big(m.payable), 0n);
  const paid = big(ledger.rows[0]?.paid);
  const received = sum((p) => p.receivedRials);
  const receivable = sum((p) => p.dueRials + p.lateRials);
  const unsettledTotal = sum((p) => p.unsettledRials);
  return {
    asOf: today,
    promisedRials: promised,
    paidToBeneficiariesRials: paid,
    owedToBeneficiariesRials: promised - paid,
    billedGrossRials: big(ledger.rows[0]?.gross),
    poolRials: months.rows.reduce((s, m) => s + big(m.pool), 0n),
    deductionsRials: big(ledger.rows[0]?.deductions),
    settledRials: sum((p) => p.settledRials),
    receivedRials: received,
    receivableRials: receivable,
    receivableLateRials: sum((p) => p.lateRials),
    unsettledRials: unsettledTotal,
    unsettledLateRials: sum((p) => p.unsettledLateRials),
    absorbedDifferenceRials: absorbed,
    carriedDifferenceRials: carried,
    pendingDifferenceRials: pending,
    beneficiariesCarriedRials: big(ledger.rows[0]?.beneficiaries_carried),
    feesCarriedRials: big(ledger.rows[0]?.fees_carried),
    installationBalancesRials: big(ledger.rows[0]?.balances),
    billedInOpenMonthsRials: big(ledger.rows[0]?.open_months),
    reversedRials: reversed,
    correctedRials: corrected,
    corrections: corrections.rows.map((c) => ({
      id: c.id,
      settlementId: c.settlement_id,
      installationCode: c.installation_code,
      periodFrom: c.period_from,
      periodUntil: c.period_until,
      reference: c.reference,
      correctedOn: c.corrected_on,
      reversedRials: big(c.reversed),
      newRials: big(c.amount),
      reason: c.reason,
    })),
    cashRials: received - paid,
    coverageRials: received - paid + receivable + unsettledTotal - (promised - paid),
    byProvince: provinces,
    byPeriod: [...byPeriod.values()].sort((a, b) => (a.periodFrom < b.periodFrom ? -1 : 1)),
  };
}
