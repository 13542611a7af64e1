// Guaranteed-purchase contracts with their tariff periods, and plant loans, on the caller's Prisma
// client or transaction (the API's routes keep HTTP and the audit; billing reads the balances).
// Rules: a tariff period ends after it starts (periods of one contract never overlap: a database
// constraint); a loan's installments repay at least its principal.
import type { Prisma } from '../../prisma/generated/client/client';
import { invalidField } from './errors';

type Db = Prisma.TransactionClient;
export interface TariffInput {
  effectiveFrom: Date;
  effectiveUntil: Date | null;
  rialPerKwh: number;
}
export interface NewContract {
  installationId: number;
  reference: string;
  kind: 'ORDINARY' | 'SUPPORT';
  startDate: Date;
  tariffs: TariffInput[];
}
export interface NewLoan {
  installationId: number;
  reference: string;
  principalRials: bigint;
  installmentRials: bigint;
  installments: number;
  /** Solar Hijri month, e.g. 1405-08. */
  firstDueMonth: string;
}

const include = { tariffs: { orderBy: { effectiveFrom: 'asc' as const } } };
const byInstallation = (installationId?: number) => (installationId ? { installationId } : {});

async function installationMustExist(db: Db, id: number): Promise<void> {
  if (!(await db.installation.findUnique({ where: { id } })))
    throw invalidField('installationId', 'no such installation');
}
/** The tariff period, or refused naming `field` when it does not end after it starts. Pure. */
export function checkTariff<T extends Pick<TariffInput, 'effectiveFrom' | 'effectiveUntil'>>(t: T, field: string): T {
  if (t.effectiveUntil && t.effectiveUntil <= t.effectiveFrom) throw invalidField(field, 'must be after effectiveFrom');
  return t;
}

/** The loan's terms, or refused naming `installments` when they do not repay its principal. Pure. */
export function checkLoanTerms<T extends Pick<NewLoan, 'principalRials' | 'installmentRials' | 'installments'>>(
  loan: T,
): T {
  if (loan.installmentRials * BigInt(loan.installments) < loan.principalRials)
    throw invalidField(
      'installments',
      `${loan.installments} installments of ${loan.installmentRials} Rials do not repay the principal of ${loan.principalRials} Rials`,
    );
  return loan;
}

/** A page of contracts in id order, each with its tariff periods in order. */
export const listContracts = (db: Db, installationId: number | undefined, window: { skip: number; take: number }) =>
  db.contract.findMany({ where: byInstallation(installationId), include, orderBy: { id: 'asc' }, ...window });

export const countContracts = (db: Db, installationId?: number) =>
  db.contract.count({ where: byInstallation(installationId) });

/** One contract with its tariff periods, or null. */
export const contractById = (db: Db, id: number) => db.contract.findUnique({ where: { id }, include });

export async function createContract(db: Db, contract: NewContract) {
  await installationMustExist(db, contract.installationId);
  const { tariffs, ...rest } = contract;
  const periods = tariffs.map((t, i) => checkTariff(t, `tariffs.${i}.effectiveUntil`));
  return db.contract.create({ data: { ...rest, tariffs: { create: periods } }, include });
}

/** Adds a tariff period; the contract before and after, or null when there is none. */
export async function addTariff(db: Db, contractId: number, tariff: TariffInput) {
  const before = await contractById(db, contractId);
  if (!before) return null;
  await db.tariffPeriod.create({ data: { contractId, ...checkTariff(tariff, 'tariffs.0.effectiveUntil') } });
  const after = await db.contract.findUniqueOrThrow({ where: { id: contractId }, include });
  return { before, after };
}

/** A page of loans in id order. */
export const listLoans = (db: Db, installationId: number | undefined, window: { skip: number; take: number }) =>
  db.loan.findMany({ where: byInstallation(installationId), orderBy: { id: 'asc' }, ...window });

export const countLoans = (db: Db, installationId?: number) => db.loan.count({ where: byInstallation(installationId) });

export async function createLoan(db: Db, loan: NewLoan) {
  await installationMustExist(db, loan.installationId);
  return db.loan.create({ data: checkLoanTerms(loan) });
}
