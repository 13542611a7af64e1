// Shares: created and changed under the program's rules inside the caller's transaction (API and
// import), listed and read on the caller's client.
import type pg from 'pg';
import type { Prisma } from '../../prisma/generated/client/client';
import { conflictOn, invalidField, notFound } from './errors';
import { overCapacity, peakWeightW, type SharePeriod, shareBreach } from './share-rules';

type Tx = Prisma.TransactionClient;
export interface NewShare extends SharePeriod {
  beneficiaryId: number;
  installationId: number;
}

/** Locks the installation (share changes are serialised per installation) and returns its capacity, W. */
async function lockCapacityW(tx: Tx, installationId: number): Promise<number> {
  const locked = await tx.$queryRaw<
    { dc_capacity_kwp: string }[]
  >`SELECT dc_capacity_kwp FROM installations WHERE id = ${installationId} FOR UPDATE`;
  if (locked.length === 0) throw invalidField('installationId', 'no such installation');
  return Math.round(Number(locked[0]!.dc_capacity_kwp) * 1000);
}

export async function createShare(tx: Tx, share: NewShare) {
  if (share.validUntil && share.validUntil <= share.validFrom)
    throw invalidField('validUntil', 'must be after validFrom');
  const capacityW = await lockCapacityW(tx, share.installationId);
  const person = await tx.beneficiary.findUnique({ where: { id: share.beneficiaryId } });
  if (!person) throw invalidField('beneficiaryId', 'no such beneficiary');
  if (person.status === 'EXITED') throw invalidField('beneficiaryId', 'this beneficiary has exited the program');
  const existing = await tx.share.findMany({ where: { installationId: share.installationId } });
  const breach = shareBreach(capacityW, existing, share);
  if (breach) throw conflictOn(breach.field, breach.message);
  return tx.share.create({ data: share, include });
}

/** Changes a share's weight or end under the same capacity rule. */
export async function updateShare(tx: Tx, id: number, change: { weightW?: number; validUntil?: Date | null }) {
  const before = await tx.share.findUnique({ where: { id } });
  if (!before) throw notFound('share');
  const next = {
    weightW: change.weightW ?? before.weightW,
    validFrom: before.validFrom,
    validUntil: change.validUntil === undefined ? before.validUntil : change.validUntil,
  };
  if (next.validUntil && next.validUntil <= next.validFrom) throw invalidField('validUntil', 'must be after validFrom');
  const capacityW = await lockCapacityW(tx, before.installationId);
  const others = await tx.share.findMany({ where: { installationId: before.installationId, id: { not: id } } });
  const peak = peakWeightW(others, next);
  if (peak > capacityW)
    throw conflictOn(change.weightW !== undefined ? 'weightW' : 'validUntil', overCapacity(peak, capacityW));
  return tx.share.update({
    where: { id },
    data: { weightW: next.weightW, validUntil: next.validUntil },
    include,
  });
}

export interface ShareFilter {
  installationId?: number;
  beneficiaryId?: number;
  /** Shares in force on this day. */
  activeOn?: Date;
}
const include = { installation: { select: { code: true } } } as const;
const whereOf = ({ installationId, beneficiaryId, activeOn }: ShareFilter) => ({
  ...(installationId ? { installationId } : {}),
  ...(beneficiaryId ? { beneficiaryId } : {}),
  ...(activeOn ? { validFrom: { lte: activeOn }, OR: [{ validUntil: null }, { validUntil: { gt: activeOn } }] } : {}),
});

/** A page of shares in id order, each with its installation's code. */
export const listShares = (db: Tx, filter: ShareFilter, window: { skip: number; take: number }) =>
  db.share.findMany({ where: whereOf(filter), include, orderBy: { id: 'asc' }, ...window });

export const countShares = (db: Tx, filter: ShareFilter) => db.share.count({ where: whereOf(filter) });

/** One share with its installation's code, or null. */
export const shareById = (db: Tx, id: number) => db.share.findUnique({ where: { id }, include });

/**
 * A person's own shares, oldest first, each with its installation's code: the portal's hottest read,
 * a prepared statement on the API's plain pool (no Prisma on that path).
 */
export async function sharesOf(sql: Pick<pg.Pool, 'query'>, beneficiaryId: number) {
  const { rows } = await sql.query<{
    id: number;
    beneficiaryId: number;
    installationId: number;
    code: string;
    weightW: number;
    validFrom: Date;
    validUntil: Date | null;
  }>({
    name: 'own-shares',
    text:
      `SELECT s.id, s.beneficiary_id AS "beneficiaryId", s.installation_id AS "installationId", i.code, ` +
      `s.weight_w AS "weightW", s.valid_from AS "validFrom", s.valid_until AS "validUntil"
         FROM shares s JOIN installations i ON i.id = s.installation_id WHERE s.beneficiary_id = $1 ORDER BY s.valid_from`,
    values: [beneficiaryId],
  });
  return rows.map(({ code, ...share }) => ({ ...share, installation: { code } }));
}

/** A share as a statement shows it: its installation's code, name and AC rating, its first and last day. */
export interface ShareOnStatement {
  share_id: number;
  code: string;
  name: string;
  capacity_w: number;
  /** Tehran dates, YYYY-MM-DD; `last` null while the share runs on. */
  first: string;
  last: string | null;
}

/**
 * Every share a person holds (a few), in no order: a statement's lines are among them. A prepared
 * statement on the caller's pool, sent alongside billing's reads of the statement (one round trip).
 */
export async function sharesOnStatementOf(sql: Pick<pg.Pool, 'query'>, beneficiaryId: number) {
  const { rows } = await sql.query<ShareOnStatement>({
    name: 'statement-shares',
    text: `SELECT sh.id AS share_id, i.code, i.name, (i.ac_rating_kw * 1000)::int AS capacity_w,
                  to_char(sh.valid_from, 'YYYY-MM-DD') AS first, to_char(sh.valid_until - 1, 'YYYY-MM-DD') AS last
             FROM shares sh JOIN installations i ON i.id = sh.installation_id WHERE sh.beneficiary_id = $1`,
    values: [beneficiaryId],
  });
  return rows;
}
