// Inverters: listed, read, registered and decommissioned on the caller's Prisma client or
// transaction (the API's routes keep HTTP, the broker accounts and the audit).
import type { Prisma } from '../../prisma/generated/client/client';
import { invalidField } from './errors';

type Db = Prisma.TransactionClient;

/**
 * Registering an inverter (the API's route, the import) holds this PostgreSQL advisory lock shared
 * for its transaction, its broker account made before the commit; the API's device reconciliation
 * holds it exclusively, so it never takes an in-flight registration's account for an orphan.
 */
export const DEVICE_REGISTRY_LOCK = 7_405_091;
export type InverterStatus = 'ACTIVE' | 'DECOMMISSIONED';
export interface InverterFilter {
  installationId?: number;
  status?: InverterStatus;
}
export interface NewInverter {
  serial: string;
  installationId: number;
  ratedAcW: number;
  model: string;
}

const include = { installation: { select: { code: true } } } as const;
const whereOf = ({ installationId, status }: InverterFilter) => ({
  ...(installationId ? { installationId } : {}),
  ...(status ? { status } : {}),
});

/** A page of inverters in serial order, each with its installation's code. */
export const listInverters = (db: Db, filter: InverterFilter, window: { skip: number; take: number }) =>
  db.inverter.findMany({ where: whereOf(filter), include, orderBy: { serial: 'asc' }, ...window });

export const countInverters = (db: Db, filter: InverterFilter) => db.inverter.count({ where: whereOf(filter) });

/** One inverter with its installation's code, or null. */
export const inverterBySerial = (db: Db, serial: string) => db.inverter.findUnique({ where: { serial }, include });

/** The registered inverters among these serials (any order; a serial not registered is left out). */
export const invertersBySerials = (db: Db, serials: string[]) =>
  db.inverter.findMany({ where: { serial: { in: serials } } });

/** The serials of every active inverter (each should have a broker account). */
export const activeInverterSerials = async (db: Db) =>
  (await db.inverter.findMany({ where: { status: 'ACTIVE' }, select: { serial: true } })).map((r) => r.serial);

/** Registers an inverter on an existing installation. */
export async function createInverter(db: Db, inverter: NewInverter) {
  if (!(await db.installation.findUnique({ where: { id: inverter.installationId } })))
    throw invalidField('installationId', 'no such installation');
  return db.inverter.create({ data: inverter, include });
}

/** Marks an inverter decommissioned; before and after, or null when there is none. */
export async function decommissionInverter(db: Db, serial: string) {
  const before = await inverterBySerial(db, serial);
  if (!before) return null;
  const after = await db.inverter.update({ where: { serial }, data: { status: 'DECOMMISSIONED' }, include });
  return { before, after };
}
