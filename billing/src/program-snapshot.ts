// What billing reads from PostgreSQL for one month: installations and their inverters, contracts and
// tariffs, loans with what closed months repaid, shares, and the balances closed months carried.
// Read inside the run's transaction, so one run sees one consistent registry.
import type pg from 'pg';
import type { LoanTerms } from './core/deductions';
import type { ShareTerm } from './core/shares';
import type { MonthId } from './core/solar-hijri';
import type { ContractTerms } from './core/tariff';

/** `provinceCode` is also the InfluxDB tag its readings carry. */
export interface InstallationRecord {
  installationId: number;
  code: string;
  provinceCode: string;
  capacityW: number;
  serials: string[];
}

export interface ProgramSnapshot {
  installations: InstallationRecord[];
  contracts: Map<number, ContractTerms>;
  loans: Map<number, LoanTerms[]>;
  shares: Map<number, ShareTerm[]>;
  /** Closed months' carry-overs: beneficiaries' amounts below the minimum payout, installations' negative balances. */
  beneficiaryCarry: Map<number, bigint>;
  installationBalance: Map<number, bigint>;
}

const CLOSED = `b.status <> 'DRAFT'`;

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

/** Each installation's contract in force in a month: the latest one started by the month's last day, with its tariffs. */
export async function loadContracts(db: pg.ClientBase, lastDate: string): Promise<Map<number, ContractTerms>> {
  const { rows } = await db.query<{
    installation_id: number;
    reference: string;
    kind: 'ORDINARY' | 'SUPPORT';
    start_date: string;
    rial_per_kwh: number | null;
    tariff_from: string | null;
    tariff_until: string | null;
  }>(
    `SELECT c.installation_id, c.reference, c.kind, to_char(c.start_date, 'YYYY-MM-DD') AS start_date, t.rial_per_kwh,
            to_char(t.effective_from, 'YYYY-MM-DD') AS tariff_from, to_char(t.effective_until, 'YYYY-MM-DD') AS tariff_until
       FROM (SELECT DISTINCT ON (installation_id) * FROM contracts WHERE start_date <= $1::date ORDER BY installation_id, start_date DESC, id DESC) c
       LEFT JOIN tariff_periods t ON t.contract_id = c.id
      ORDER BY c.installation_id, t.effective_from`,
    [lastDate],
  );
  const contracts = new Map<number, ContractTerms>();
  for (const row of rows) {
    let contract = contracts.get(row.installation_id);
    if (!contract) {
      contract = { reference: row.reference, kind: row.kind, startDate: row.start_date, periods: [] };
      contracts.set(row.installation_id, contract);
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
  const installations = await db.query<{
    id: number;
    code: string;
    province: string;
    capacity_w: number;
    serials: string[];
  }>(
    `SELECT i.id, i.code, p.code AS province, round(i.dc_capacity_kwp * 1000)::int AS capacity_w, array_agg(v.serial ORDER BY v.serial) AS serials
       FROM installations i JOIN provinces p ON p.id = i.province_id JOIN inverters v ON v.installation_id = i.id
      GROUP BY i.id, p.code ORDER BY i.id`,
  );
  const loans = await db.query<{
    id: number;
    installation_id: number;
    reference: string;
    installment_rials: string;
    installments: number;
    first_due_month: string;
    repaid: string;
  }>(
    `SELECT l.id, l.installation_id, l.reference, l.installment_rials, l.installments, l.first_due_month,
            COALESCE((SELECT sum(d.deducted_rials) FROM loan_deductions d JOIN billing_months b ON b.month = d.month WHERE d.loan_id = l.id AND ${CLOSED} AND d.month < $1), 0) AS repaid
       FROM loans l ORDER BY l.id`,
    [month],
  );
  const shares = await db.query<{
    id: number;
    beneficiary_id: number;
    installation_id: number;
    weight_w: number;
    valid_from: string;
    valid_until: string | null;
  }>(
    `SELECT id, beneficiary_id, installation_id, weight_w, to_char(valid_from, 'YYYY-MM-DD') AS valid_from, to_char(valid_until, 'YYYY-MM-DD') AS valid_until
       FROM shares WHERE valid_from <= $2::date AND (valid_until IS NULL OR valid_until > $1::date) ORDER BY id`,
    [firstDate, lastDate],
  );
  const carry = await db.query<{ beneficiary_id: number; carried_out_rials: string }>(
    `SELECT DISTINCT ON (s.beneficiary_id) s.beneficiary_id, s.carried_out_rials
       FROM statements s JOIN billing_months b ON b.month = s.month WHERE ${CLOSED} AND s.month < $1
      ORDER BY s.beneficiary_id, s.month DESC`,
    [month],
  );
  const balances = await db.query<{ installation_id: number; balance_out_rials: string }>(
    `SELECT DISTINCT ON (ib.installation_id) ib.installation_id, ib.balance_out_rials
       FROM installation_bills ib JOIN billing_months b ON b.month = ib.month WHERE ${CLOSED} AND ib.month < $1
      ORDER BY ib.installation_id, ib.month DESC`,
    [month],
  );

  return {
    installations: installations.rows.map((r) => ({
      installationId: r.id,
      code: r.code,
      provinceCode: r.province,
      capacityW: r.capacity_w,
      serials: r.serials,
    })),
    contracts: await loadContracts(db, lastDate),
    loans: groupBy(
      loans.rows.map((r) => ({
        installationId: r.installation_id,
        loanId: r.id,
        reference: r.reference,
        installmentRials: BigInt(r.installment_rials),
        installments: r.installments,
        firstDueMonth: r.first_due_month,
        repaidRials: BigInt(r.repaid),
      })),
      (l) => l.installationId,
    ),
    shares: groupBy(
      shares.rows.map((r) => ({
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
  };
}
