// The audit log: who did what to which thing (append-only in PostgreSQL: a trigger refuses updates
// and deletes, and the application's role may only insert). Every component writes it here, so one
// query finds an actor's or an action's rows, whoever wrote them.
import type pg from 'pg';
import type { PrismaClient } from '../prisma/generated/client/client';
import { jsonCopy, jsonText } from './json';

/**
 * Who acted, as the log names them: a staff user (`staff:admin`), a beneficiary (`beneficiary:42`),
 * an operator at a terminal (`cli:` and the system user) or one of the platform's own jobs
 * (`service:scheduler`).
 */
export type Actor = `staff:${string}` | `beneficiary:${string}` | `cli:${string}` | `service:${string}`;

export const staffActor = (username: string): Actor => `staff:${username}`;
export const beneficiaryActor = (id: number | bigint | string): Actor => `beneficiary:${id}`;
export const serviceActor = (name: string): Actor => `service:${name}`;
/** The operator running a command line, by their system user. */
export const cliActor = (env: NodeJS.ProcessEnv = process.env): Actor => `cli:${env.USER ?? 'unknown'}`;

/** `entity.verb` in the program's words: `share.update`, `billing.close`, `payout.paid`. */
export type AuditAction = `${string}.${string}`;

/**
 * The actor a component passed, in the log's form: a bare name is one of the platform's own jobs
 * (`scheduler` → `service:scheduler`), and `user:` is the API's earlier name for staff.
 */
export function actorFrom(text: string): Actor {
  if (/^(staff|beneficiary|cli|service):./.test(text)) return text as Actor;
  if (text.startsWith('user:')) return staffActor(text.slice('user:'.length));
  return serviceActor(text);
}

export interface AuditEntry {
  /** An `Actor`, or a job's bare name (see `actorFrom`). */
  actor: Actor | string;
  action: AuditAction;
  /** What was acted on (`share`, `billing_month`, ...) and which one. */
  entity: string;
  entityId: string | number | bigint;
  before?: unknown;
  after?: unknown;
}

function checked(entry: AuditEntry): AuditEntry {
  if (!/^[a-z][a-z_]*\.[a-z][a-z_]*$/.test(entry.action))
    throw new RangeError(`audit action '${entry.action}' is not entity.verb`);
  return entry;
}
const jsonOrNull = (value: unknown) => (value === undefined || value === null ? null : jsonText(value));

/** Appends one entry or many (one statement) over node-postgres; in the caller's transaction when `db` is its client. */
export async function writeAudit(
  db: Pick<pg.ClientBase, 'query'>,
  entries: AuditEntry | readonly AuditEntry[],
): Promise<void> {
  const rows = (Array.isArray(entries) ? entries : [entries]).map(checked);
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO audit_log (actor, action, entity, entity_id, before, after)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[])`,
    [
      rows.map((r) => actorFrom(r.actor)),
      rows.map((r) => r.action),
      rows.map((r) => r.entity),
      rows.map((r) => String(r.entityId)),
      rows.map((r) => jsonOrNull(r.before)),
      rows.map((r) => jsonOrNull(r.after)),
    ],
  );
}

/** Appends an entry through Prisma; inside the caller's transaction when `db` is its client. */
export async function writeAuditWithPrisma(db: Pick<PrismaClient, 'auditLog'>, entry: AuditEntry): Promise<void> {
  const { actor, action, entity, entityId, before, after } = checked(entry);
  await db.auditLog.create({
    data: {
      actor: actorFrom(actor),
      action,
      entity,
      entityId: String(entityId),
      before: jsonCopy(before ?? undefined),
      after: jsonCopy(after ?? undefined),
    },
  });
}

/** Which of `entityIds` of `entity` already have an entry of `action` (e.g. the months whose report went out). */
export async function auditedIds(
  db: Pick<pg.ClientBase, 'query'>,
  action: AuditAction,
  entity: string,
  entityIds: readonly string[],
): Promise<Set<string>> {
  const { rows } = await db.query<{ entity_id: string }>(
    'SELECT DISTINCT entity_id FROM audit_log WHERE action = $1 AND entity = $2 AND entity_id = ANY($3)',
    [action, entity, entityIds],
  );
  return new Set(rows.map((r) => r.entity_id));
}

/** The first entry of an action (the oldest), with when it was written and its `after`; null when there is none. */
export async function firstAuditEntry<After = unknown>(
  db: Pick<pg.ClientBase, 'query'>,
  action: AuditAction,
): Promise<{ at: Date; after: After } | null> {
  const { rows } = await db.query<{ at: Date; after: After }>(
    'SELECT at, after FROM audit_log WHERE action = $1 ORDER BY id LIMIT 1',
    [action],
  );
  return rows[0] ?? null;
}
