// Corrects a settlement whose payment was recorded. Such a settlement is money on record and never
// changes (the import refuses, a trigger refuses any SQL): a correction is a new, append-only row
// that reverses the figures in force (the settlement's, or the last correction's) and states the
// new ones, audited, and both show in the cash position.
import type pg from 'pg';
import { writeAudit } from '../../../lib/audit';
import { rollbackWith, withTransaction } from '../../../lib/transaction';

export interface SettlementCorrectionInput {
  settlementId: number;
  meteredWh: bigint;
  amountRials: bigint;
  /** Default: the settlement's reference. */
  reference?: string;
  /** The day the difference was paid or taken back (Tehran date, YYYY-MM-DD). */
  correctedOn: string;
  reason: string;
  actor: string;
}
export interface SettlementCorrection {
  id: number;
  settlementId: number;
  installationCode: string;
  periodFrom: string;
  periodUntil: string;
  reversedMeteredWh: bigint;
  reversedAmountRials: bigint;
  meteredWh: bigint;
  amountRials: bigint;
  reference: string;
  correctedOn: string;
  reason: string;
}
export type CorrectionOutcome =
  | { ok: true; correction: SettlementCorrection }
  | { ok: false; problem: 'not_found' | 'not_paid' | 'unchanged' | 'before_payment'; reason: string };

export async function correctSettlement(pool: pg.Pool, input: SettlementCorrectionInput): Promise<CorrectionOutcome> {
  return withTransaction<CorrectionOutcome>(pool, async (db) => {
    // Locked first, so two corrections of one settlement take turns and each reverses the one before.
    await db.query('SELECT id FROM utility_settlements WHERE id = $1 FOR UPDATE', [input.settlementId]);
    const found = await db.query<{
      code: string;
      period_from: string;
      period_until: string;
      reference: string;
      paid_on: string | null;
      metered_wh: string;
      amount_rials: string;
    }>(
      `SELECT i.code, to_char(s.period_from, 'YYYY-MM-DD') AS period_from, to_char(s.period_until, 'YYYY-MM-DD') AS period_until,
              s.reference, to_char(s.paid_on, 'YYYY-MM-DD') AS paid_on, s.metered_wh, s.amount_rials
         FROM settlements_in_force s JOIN installation_summaries i ON i.id = s.installation_id WHERE s.id = $1`,
      [input.settlementId],
    );
    // With the figures in force: its own, or its latest correction's (billing/README.md, "Corrections").
    const settlement = found.rows[0];
    const refuse = (problem: Exclude<CorrectionOutcome, { ok: true }>['problem'], reason: string) =>
      rollbackWith<CorrectionOutcome>({ ok: false, problem, reason });
    if (!settlement) return refuse('not_found', 'settlement not found');
    if (!settlement.paid_on)
      return refuse(
        'not_paid',
        'this settlement has no recorded payment: import its new figures instead of correcting it',
      );
    if (input.correctedOn < settlement.paid_on)
      return refuse('before_payment', `correctedOn is before the payment was recorded (${settlement.paid_on})`);
    const reference = input.reference ?? settlement.reference;
    if (
      BigInt(settlement.metered_wh) === input.meteredWh &&
      BigInt(settlement.amount_rials) === input.amountRials &&
      settlement.reference === reference
    )
      return refuse('unchanged', 'these are the figures in force: nothing to correct');
    const inserted = await db.query<{ id: number }>(
      `INSERT INTO settlement_corrections (settlement_id, reversed_metered_wh, reversed_amount_rials, metered_wh, amount_rials,
                                           reference, corrected_on, reason, actor)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
      [
        input.settlementId,
        settlement.metered_wh,
        settlement.amount_rials,
        String(input.meteredWh),
        String(input.amountRials),
        reference,
        input.correctedOn,
        input.reason,
        input.actor,
      ],
    );
    const correction: SettlementCorrection = {
      id: inserted.rows[0]!.id,
      settlementId: input.settlementId,
      installationCode: settlement.code,
      periodFrom: settlement.period_from,
      periodUntil: settlement.period_until,
      reversedMeteredWh: BigInt(settlement.metered_wh),
      reversedAmountRials: BigInt(settlement.amount_rials),
      meteredWh: input.meteredWh,
      amountRials: input.amountRials,
      reference,
      correctedOn: input.correctedOn,
      reason: input.reason,
    };
    // Reconciled again, with the figures in force, by the next reconciliation run.
    await db.query('UPDATE utility_settlements SET status = NULL WHERE id = $1', [input.settlementId]);
    await writeAudit(db, {
      actor: input.actor,
      action: 'settlement.correct',
      entity: 'utility_settlement',
      entityId: input.settlementId,
      before: {
        meteredWh: settlement.metered_wh,
        amountRials: settlement.amount_rials,
        reference: settlement.reference,
      },
      after: {
        correction: correction.id,
        meteredWh: String(input.meteredWh),
        amountRials: String(input.amountRials),
        reference,
        correctedOn: input.correctedOn,
        reason: input.reason,
      },
    });
    return { ok: true, correction };
  });
}
