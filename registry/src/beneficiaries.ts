// Beneficiaries: listed, read, registered and changed on the caller's Prisma client or transaction,
// their identifiers validated and normalised (beneficiary-input.ts); a province is named by its code.
// The API's routes keep HTTP, sessions, SMS queues and the audit.
import type { Prisma } from '../../prisma/generated/client/client';
import { mobileOf, nationalCodeOf, shebaOf } from './beneficiary-input';
import { provinceIdOf } from './provinces';

type Db = Prisma.TransactionClient;
export type TargetGroup =
  | 'WOMAN_HEAD_OF_HOUSEHOLD'
  | 'PERSON_WITH_DISABILITY'
  | 'RECOVERED_FROM_ADDICTION'
  | 'INDEPENDENT_YOUNG_ADULT'
  | 'OTHER';
export type BeneficiaryStatus = 'ACTIVE' | 'SUSPENDED' | 'EXITED';
export interface BeneficiaryFilter {
  province?: string;
  status?: BeneficiaryStatus;
  targetGroup?: TargetGroup;
  /** Part of the full name, any case. */
  q?: string;
}
/** As typed in: identifiers are checked and normalised (Persian digits accepted). */
export interface BeneficiaryInput {
  fullName: string;
  mobile: string | null;
  sheba: string | null;
  province: string;
  targetGroup: TargetGroup;
  status: BeneficiaryStatus;
}

const include = { province: { select: { code: true } } } as const;
const whereOf = ({ province, status, targetGroup, q }: BeneficiaryFilter) => ({
  ...(province ? { province: { code: province } } : {}),
  ...(status ? { status } : {}),
  ...(targetGroup ? { targetGroup } : {}),
  ...(q ? { fullName: { contains: q, mode: 'insensitive' as const } } : {}),
});

/** A page of beneficiaries in id order, each with their province's code. */
export const listBeneficiaries = (db: Db, filter: BeneficiaryFilter, window: { skip: number; take: number }) =>
  db.beneficiary.findMany({ where: whereOf(filter), include, orderBy: { id: 'asc' }, ...window });

export const countBeneficiaries = (db: Db, filter: BeneficiaryFilter) =>
  db.beneficiary.count({ where: whereOf(filter) });

/** A signed-in beneficiary with their province (code and Persian name); throws when there is none. */
export const beneficiaryWithProvince = (db: Db, id: number) =>
  db.beneficiary.findUniqueOrThrow({ where: { id }, include: { province: true } });

/** One beneficiary with their province's code, or null. */
export const beneficiaryById = (db: Db, id: number) => db.beneficiary.findUnique({ where: { id }, include });

export const beneficiaryExists = async (db: Db, id: number) =>
  (await db.beneficiary.findUnique({ where: { id }, select: { id: true } })) !== null;

/**
 * Who a national code names, for signing in (the PIN's hash: nothing else outside the registry reads
 * it) and for ending a person's sessions; null when no one has it. `inProgram`: not exited.
 */
export async function beneficiaryByNationalCode(db: Db, nationalCode: string) {
  const person = await db.beneficiary.findUnique({
    where: { nationalCode },
    select: { id: true, status: true, pinHash: true },
  });
  return person && { id: person.id, inProgram: person.status !== 'EXITED', pinHash: person.pinHash };
}

export async function createBeneficiary(
  db: Db,
  input: Omit<BeneficiaryInput, 'mobile' | 'sheba' | 'status'> &
    Partial<Pick<BeneficiaryInput, 'mobile' | 'sheba' | 'status'>> & { nationalCode: string },
) {
  const data = {
    nationalCode: nationalCodeOf(input.nationalCode),
    fullName: input.fullName.trim(),
    targetGroup: input.targetGroup,
    status: input.status ?? 'ACTIVE',
    mobile: mobileOf(input.mobile) ?? null,
    sheba: shebaOf(input.sheba) ?? null,
    provinceId: await provinceIdOf(db, input.province),
  };
  return db.beneficiary.create({ data, include });
}

/** Changes the given fields (checked first); before and after, or null when there is no such beneficiary. */
export async function updateBeneficiary(db: Db, id: number, change: Partial<BeneficiaryInput>) {
  const data = {
    ...(change.fullName !== undefined ? { fullName: change.fullName.trim() } : {}),
    ...(change.targetGroup ? { targetGroup: change.targetGroup } : {}),
    ...(change.status ? { status: change.status } : {}),
    ...(change.mobile !== undefined ? { mobile: mobileOf(change.mobile) } : {}),
    ...(change.sheba !== undefined ? { sheba: shebaOf(change.sheba) } : {}),
    ...(change.province ? { provinceId: await provinceIdOf(db, change.province) } : {}),
  };
  const before = await beneficiaryById(db, id);
  if (!before) return null;
  const after = await db.beneficiary.update({ where: { id }, data, include });
  return { before, after };
}

/** Sets the portal PIN's hash; false when there is no such beneficiary. */
export async function setPinHash(db: Db, id: number, pinHash: string): Promise<boolean> {
  if (!(await beneficiaryExists(db, id))) return false;
  await db.beneficiary.update({ where: { id }, data: { pinHash } });
  return true;
}

/** Records whether they want the program's SMS; whether they had opted out before, or null when there is no one. */
export async function setSmsOptOut(db: Db, id: number, optOut: boolean): Promise<{ wasOptedOut: boolean } | null> {
  const before = await db.beneficiary.findUnique({ where: { id }, select: { smsOptOutAt: true } });
  if (!before) return null;
  const wasOptedOut = before.smsOptOutAt !== null;
  if (wasOptedOut !== optOut)
    await db.beneficiary.update({ where: { id }, data: { smsOptOutAt: optOut ? new Date() : null } });
  return { wasOptedOut };
}
