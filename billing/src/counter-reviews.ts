// What operators record about counters, each audited: an inverter replaced on the same serial (its
// counter starts a new epoch), and a decision on an inverter's month that was held as implausible
// (accept what was read, correct it, or exclude it). Billing applies both on its next run; for a
// closed month the difference arrives as a late-data adjustment.
import type pg from 'pg';
import { type AuditAction, writeAudit } from '../../lib/audit';
import { withTransaction } from '../../lib/transaction';
import { registeredInverter } from '../../registry/index';
import type { ReviewDecision } from './core/counter-review';
import { capacityBoundWh, type Replacement } from './core/counter-energy';
import { monthBounds, parseMonth, type MonthId } from '../../lib/program/solar-hijri';
import { BillingError } from './errors';

/** The inverter's rating; refused when the serial is not registered. */
async function inverterRating(db: pg.ClientBase, serial: string): Promise<number> {
  const inverter = await registeredInverter(db, serial);
  if (!inverter) throw new BillingError('not_found', `inverter ${serial} is not registered`);
  return inverter.ratedAcW;
}

/** The most any decision may bill for an inverter's month (billing/README.md, "Review decisions"). */
export function monthCapacityBoundWh(month: MonthId, ratedAcW: number): number {
  const { startMs, endMs } = monthBounds(month);
  return capacityBoundWh(ratedAcW, endMs - startMs);
}

async function audited<T>(
  pool: pg.Pool,
  actor: string,
  action: AuditAction,
  entityId: string,
  work: (db: pg.PoolClient) => Promise<{ before: unknown; after: T }>,
): Promise<T> {
  return withTransaction(pool, async (db) => {
    const { before, after } = await work(db);
    await writeAudit(db, { actor, action, entity: 'counter', entityId, before, after });
    return after;
  });
}

export interface ReplacementInput {
  serial: string;
  replacedAt: Date;
  initialWh: number | null;
  note: string;
}

/** Records that a new inverter (or counter) took over `serial` at `replacedAt`. */
export async function recordReplacement(pool: pg.Pool, input: ReplacementInput, actor: string) {
  if (Number.isNaN(input.replacedAt.getTime())) throw new BillingError('invalid', 'replacedAt: not a date and time');
  if (input.replacedAt.getTime() > Date.now())
    throw new BillingError('invalid', 'replacedAt: a replacement cannot be recorded in the future');
  if (input.initialWh !== null && !(Number.isSafeInteger(input.initialWh) && input.initialWh >= 0))
    throw new BillingError('invalid', 'initialWh: the new counter reading must be whole Wh, 0 or more');
  if (input.note.trim() === '') throw new BillingError('invalid', 'note: say what was replaced and why');
  return audited(pool, actor, 'counter.replacement', input.serial, async (db) => {
    await inverterRating(db, input.serial);
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO inverter_replacements (serial, replaced_at, initial_wh, note, recorded_by, recorded_at)
       VALUES ($1, $2::timestamptz AT TIME ZONE 'UTC', $3, $4, $5, now() AT TIME ZONE 'UTC')
       ON CONFLICT (serial, replaced_at) DO NOTHING RETURNING id`,
      [input.serial, input.replacedAt.toISOString(), input.initialWh, input.note.trim(), actor],
    );
    // Ingest workers reload their registry (and stop judging the new counter by the old one).
    await db.query(`SELECT pg_notify('registry_changed', 'inverter_replacements')`);
    if (!rows[0])
      throw new BillingError(
        'conflict',
        `a replacement of ${input.serial} at ${input.replacedAt.toISOString()} is already recorded`,
      );
    return {
      before: null,
      after: { id: rows[0].id, ...input, replacedAt: input.replacedAt.toISOString() },
    };
  });
}

type ReplacementRow = { serial: string; at_ms: string; initial_wh: string | null };
const replacementOf = (r: ReplacementRow): Replacement => ({
  atMs: Number(r.at_ms),
  initialWh: r.initial_wh === null ? null : Number(r.initial_wh),
});

/**
 * Each replaced serial's latest replacement (of `serials` when given): when, and the new counter then
 * if it was recorded. Ingest judges a counter from there on; a simulator or a commissioning burst
 * that continues a counter continues the new one.
 */
export async function latestReplacements(
  db: pg.Pool | pg.ClientBase,
  serials?: readonly string[],
): Promise<Map<string, Replacement>> {
  // Stored without a zone, in UTC.
  const { rows } = await db.query<ReplacementRow>(
    `SELECT DISTINCT ON (serial) serial, round(extract(epoch FROM replaced_at AT TIME ZONE 'UTC') * 1000)::bigint AS at_ms,
            initial_wh
       FROM inverter_replacements ${serials ? 'WHERE serial = ANY($1)' : ''} ORDER BY serial, replaced_at DESC`,
    serials ? [serials] : [],
  );
  return new Map(rows.map((r) => [r.serial, replacementOf(r)]));
}

/** The replacements recorded at or after `fromMs`, per serial, oldest first. */
export async function replacementsSince(
  db: pg.Pool | pg.ClientBase,
  fromMs: number,
): Promise<Map<string, Replacement[]>> {
  const { rows } = await db.query<ReplacementRow>(
    `SELECT serial, round(extract(epoch FROM replaced_at AT TIME ZONE 'UTC') * 1000)::bigint AS at_ms, initial_wh
       FROM inverter_replacements WHERE replaced_at >= $1::timestamptz AT TIME ZONE 'UTC' ORDER BY serial, replaced_at`,
    [new Date(fromMs).toISOString()],
  );
  const out = new Map<string, Replacement[]>();
  for (const r of rows) {
    const list = out.get(r.serial);
    if (list) list.push(replacementOf(r));
    else out.set(r.serial, [replacementOf(r)]);
  }
  return out;
}

export interface ReviewInput {
  month: MonthId;
  serial: string;
  decision: ReviewDecision;
  correctedWh: number | null;
  reason: string;
}

/** Records (or replaces) the decision on an inverter's month; the previous one stays in the audit log. */
export async function reviewCounter(pool: pg.Pool, input: ReviewInput, actor: string) {
  parseMonth(input.month);
  if ((input.decision === 'CORRECT') !== (input.correctedWh !== null))
    throw new BillingError('invalid', 'correctedWh: give the corrected energy exactly when the decision is CORRECT');
  if (input.correctedWh !== null && !(Number.isSafeInteger(input.correctedWh) && input.correctedWh >= 0))
    throw new BillingError('invalid', 'correctedWh: whole Wh, 0 or more');
  if (input.reason.trim() === '') throw new BillingError('invalid', 'reason: say why');
  return audited(pool, actor, 'counter.review', `${input.month}/${input.serial}`, async (db) => {
    const boundWh = monthCapacityBoundWh(input.month, await inverterRating(db, input.serial));
    if (input.correctedWh !== null && input.correctedWh > boundWh)
      throw new BillingError(
        'invalid',
        `correctedWh: ${input.correctedWh} Wh is more than ${input.serial} could produce in ${input.month} (its capacity bound is ${boundWh} Wh)`,
      );
    const { rows } = await db.query(
      'SELECT decision, corrected_wh, reason FROM counter_reviews WHERE month = $1 AND serial = $2',
      [input.month, input.serial],
    );
    await db.query(
      `INSERT INTO counter_reviews (month, serial, decision, corrected_wh, reason, decided_by, decided_at)
       VALUES ($1, $2, $3, $4, $5, $6, now() AT TIME ZONE 'UTC')
       ON CONFLICT (month, serial) DO UPDATE SET decision = EXCLUDED.decision, corrected_wh = EXCLUDED.corrected_wh,
         reason = EXCLUDED.reason, decided_by = EXCLUDED.decided_by, decided_at = EXCLUDED.decided_at`,
      [input.month, input.serial, input.decision, input.correctedWh, input.reason.trim(), actor],
    );
    return { before: rows[0] ?? null, after: { ...input, reason: input.reason.trim() } };
  });
}
