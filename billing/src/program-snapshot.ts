// What billing reads from PostgreSQL for one month: installations and their inverters, contracts and
// tariffs, loans with what closed months repaid, shares, and the balances closed months carried.
// Read inside the run's transaction, so one run sees one consistent registry.
import type pg from 'pg';
import {
  beneficiariesHoldingAfter,
  contractTariffsInForce,
  type LoanRow,
  meteredInstallations,
  sharesInForce,
} from '../../registry/index';
import type { Replacement } from './core/counter-energy';
import type { CounterReview } from './core/counter-review';
import type { LoanTerms } from './core/deductions';
import type { ShareTerm } from './core/shares';
import type { MonthId } from '../../lib/program/solar-hijri';
import type { ContractTerms } from '../../lib/program/tariff';
import type { MeteredInverter } from './installation-energy';

/** `provinceCode` is also the InfluxDB tag its readings carry. */
export interface InstallationRecord {
  installationId: number;
  code: string;
  provinceCode: string;
  capacityW: number;
  inverters: MeteredInverter[];
}

export interface ProgramSnapshot {
  installations: InstallationRecord[];
  /** Per installation, the contracts in force on some day of the month, in start order. */
  contracts: Map<number, ContractTerms[]>;
  loans: Map<number, LoanTerms[]>;
  shares: Map<number, ShareTerm[]>;
  /** Closed months' carry-overs: beneficiaries' amounts below the minimum payout, installations' negative balances. */
  beneficiaryCarry: Map<number, bigint>;
  installationBalance: Map<number, bigint>;
  /** Beneficiaries holding a share after the month: the others are paid whatever is left, however small. */
  continuing: Set<number>;
}

const CLOSED = `b.status <> 'DRAFT'`;
/**
 * What closed months before `month` (an SQL expression) repaid of loan `l`: one computation for
 * billing, the loans' balances, statements and Grafana.
 */
export const repaidBefore = (month: string) =>
  `COALESCE((SELECT sum(d.deducted_rials) FROM loan_deductions d JOIN billing_months b ON b.month = d.month ` +
  `WHERE d.loan_id = l.id AND ${CLOSED} AND d.month < ${month}), 0)`;
export const REPAID_BEFORE = repaidBefore('$1');

function groupBy<T>(rows: T[], key: (row: T) => number): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const row of rows) {
    const k = key(row);
    const list = out.get(k);
    if (list) list.push(row);
    else out.set(k, [row]);
  }
  return out;
}

/**
 * Each installation's contracts in force on some day of [firstDate, lastDate], in start order (a
 * contract is in force from its start until the next one starts), with their tariffs.
 */
export async function loadContracts(
  db: pg.ClientBase,
  firstDate: string,
  lastDate: string,
): Promise<Map<number, ContractTerms[]>> {
  const rows = await contractTariffsInForce(db, firstDate, lastDate);
  const contracts = new Map<number, ContractTerms[]>();
  let contract: (ContractTerms & { id: number }) | undefined;
  for (const row of rows) {
    if (contract?.id !== row.id) {
      contract = { id: row.id, reference: row.reference, kind: row.kind, startDate: row.start_date, periods: [] };
      contracts.set(row.installation_id, [...(contracts.get(row.installation_id) ?? []), contract]);
    }
    if (row.rial_per_kwh !== null)
      contract.periods.push({ from: row.tariff_from!, until: row.tariff_until, rialPerKwh: row.rial_per_kwh });
  }
  return contracts;
}

export async function loadProgramSnapshot(
  db: pg.ClientBase,
  month: MonthId,
  firstDate: string,
  lastDate: string,
): Promise<ProgramSnapshot> {
  const installations = await meteredInstallations(db);
  // Each loan's terms (the registry's view) with what closed months repaid of it, in one round trip.
  const loans = await db.query<LoanRow & { repaid: string }>(
    `SELECT l.id, l.installation_id, l.reference, l.principal_rials, l.installment_rials, l.installments, l.first_due_month,
            ${REPAID_BEFORE} AS repaid
       FROM loan_terms l ORDER BY l.id`,
    [month],
  );
  const shares = await sharesInForce(db, firstDate, lastDate);
  const carry = await db.query<{ beneficiary_id: number; carried_out_rials: string }>(
    `SELECT DISTINCT ON (s.beneficiary_id) s.beneficiary_id, s.carried_out_rials
       FROM statements s JOIN billing_months b ON b.month = s.month WHERE ${CLOSED} AND s.month < $1
      ORDER BY s.beneficiary_id, s.month DESC`,
    [month],
  );
  const continuing = await beneficiariesHoldingAfter(db, lastDate);
  const balances = await db.query<{ installation_id: number; balance_out_rials: string }>(
    `SELECT DISTINCT ON (ib.installation_id) ib.installation_id, ib.balance_out_rials
       FROM installation_bills ib JOIN billing_months b ON b.month = ib.month WHERE ${CLOSED} AND ib.month < $1
      ORDER BY ib.installation_id, ib.month DESC`,
    [month],
  );

  return {
    installations: installations.map((r) => ({
      installationId: r.id,
      code: r.code,
      provinceCode: r.province,
      capacityW: r.capacity_w,
      inverters: r.serials.map((serial, i) => ({ serial, ratedAcW: r.ratings[i]!, provinceCode: r.province })),
    })),
    contracts: await loadContracts(db, firstDate, lastDate),
    loans: groupBy(
      loans.rows.map((r) => ({
        installationId: r.installation_id,
        loanId: r.id,
        reference: r.reference,
        principalRials: BigInt(r.principal_rials),
        installmentRials: BigInt(r.installment_rials),
        installments: r.installments,
        firstDueMonth: r.first_due_month,
        repaidRials: BigInt(r.repaid),
      })),
      (l) => l.installationId,
    ),
    shares: groupBy(
      shares.map((r) => ({
        installationId: r.installation_id,
        shareId: r.id,
        beneficiaryId: r.beneficiary_id,
        weightW: r.weight_w,
        validFrom: r.valid_from,
        validUntil: r.valid_until,
      })),
      (s) => s.installationId,
    ),
    beneficiaryCarry: new Map(carry.rows.map((r) => [r.beneficiary_id, BigInt(r.carried_out_rials)])),
    installationBalance: new Map(balances.rows.map((r) => [r.installation_id, BigInt(r.balance_out_rials)])),
    continuing: new Set(continuing),
  };
}

/** What operators recorded about counters: replacements (all: they bound epochs) and the month's decisions. */
export async function loadCounterEvidence(
  db: pg.ClientBase,
  month: MonthId,
): Promise<{ replacements: Map<string, Replacement[]>; reviews: Map<string, CounterReview> }> {
  // Timestamps without a zone hold UTC (as Prisma writes them): read them as UTC whatever the process's zone.
  const replaced = await db.query<{ serial: string; at_ms: string; initial_wh: string | null }>(
    `SELECT serial, round(extract(epoch FROM replaced_at AT TIME ZONE 'UTC') * 1000)::bigint AS at_ms, initial_wh
       FROM inverter_replacements ORDER BY serial, replaced_at`,
  );
  const reviews = await db.query<{
    serial: string;
    decision: CounterReview['decision'];
    corrected_wh: string | null;
    reason: string;
    decided_by: string;
    decided_at: string;
  }>(
    `SELECT serial, decision, corrected_wh, reason, decided_by, to_char(decided_at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS decided_at
       FROM counter_reviews WHERE month = $1`,
    [month],
  );
  const replacements = new Map<string, Replacement[]>();
  for (const r of replaced.rows)
    replacements.set(r.serial, [
      ...(replacements.get(r.serial) ?? []),
      { atMs: Number(r.at_ms), initialWh: r.initial_wh === null ? null : Number(r.initial_wh) },
    ]);
  return {
    replacements,
    reviews: new Map(
      reviews.rows.map((r) => [
        r.serial,
        {
          decision: r.decision,
          correctedWh: r.corrected_wh === null ? null : Number(r.corrected_wh),
          reason: r.reason,
          decidedBy: r.decided_by,
          decidedAt: r.decided_at,
        },
      ]),
    ),
  };
}
