// Installations: listed, read, registered and changed on the caller's Prisma client or transaction
// (the API's routes keep HTTP, roles and the audit). A province is named by its code.
import type { Prisma } from '../../prisma/generated/client/client';
import { provinceIdOf } from './provinces';

type Db = Prisma.TransactionClient;
export type InstallationStatus = 'PLANNED' | 'COMMISSIONED' | 'SUSPENDED' | 'DECOMMISSIONED';
export interface InstallationFilter {
  province?: string;
  status?: InstallationStatus;
  /** Part of the name or the code, any case. */
  q?: string;
}
export interface InstallationFields {
  name: string;
  province: string;
  latitude: number;
  longitude: number;
  dcCapacityKwp: number;
  acRatingKw: number;
  commissionedOn: Date | null;
  status: InstallationStatus;
}

const include = { province: { select: { code: true } } } as const;

const whereOf = ({ province, status, q }: InstallationFilter) => ({
  ...(province ? { province: { code: province } } : {}),
  ...(status ? { status } : {}),
  ...(q
    ? {
        OR: [
          { name: { contains: q, mode: 'insensitive' as const } },
          { code: { contains: q, mode: 'insensitive' as const } },
        ],
      }
    : {}),
});

/** A page of installations in id order. */
export const listInstallations = (db: Db, filter: InstallationFilter, window: { skip: number; take: number }) =>
  db.installation.findMany({ where: whereOf(filter), include, orderBy: { id: 'asc' }, ...window });

export const countInstallations = (db: Db, filter: InstallationFilter) =>
  db.installation.count({ where: whereOf(filter) });

/** One installation with its province's code, or null. */
export const installationById = (db: Db, id: number) => db.installation.findUnique({ where: { id }, include });

export async function createInstallation(
  db: Db,
  fields: Omit<InstallationFields, 'commissionedOn' | 'status'> &
    Partial<Pick<InstallationFields, 'commissionedOn' | 'status'>> & { code: string },
) {
  const { province, ...rest } = fields;
  return db.installation.create({ data: { ...rest, provinceId: await provinceIdOf(db, province) }, include });
}

/** Changes the given fields; the installation before and after, or null when there is none. */
export async function updateInstallation(db: Db, id: number, change: Partial<InstallationFields>) {
  const before = await installationById(db, id);
  if (!before) return null;
  const { province, ...rest } = change;
  const after = await db.installation.update({
    where: { id },
    include,
    data: { ...rest, ...(province ? { provinceId: await provinceIdOf(db, province) } : {}) },
  });
  return { before, after };
}
