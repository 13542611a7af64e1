// Queues the month's SMS in the transaction that makes them true: STATEMENT_READY when the month
// closes, PAID when its payout batch is marked paid. One message per person, month and kind (a
// repeated close or mark-paid queues nothing twice); people without a mobile or who opted out get
// none. The text is billing's (core/sms-text.ts): a month and an amount, never a national code or Sheba.
import type pg from 'pg';
import type { PrismaClient } from '../../../prisma/generated/client/client';
import { smsText } from '../core/sms-text';
import type { MonthId } from '../../../lib/program/solar-hijri';

export type SmsKind = 'STATEMENT_READY' | 'PAID';

export async function queueMonthSms(db: pg.ClientBase, month: MonthId, kind: SmsKind): Promise<number> {
  const { rows } = await db.query<{ id: number; mobile: string; payable_rials: string; carried_out_rials: string }>(
    `SELECT b.id, b.mobile, s.payable_rials, s.carried_out_rials FROM statements s JOIN beneficiaries b ON b.id = s.beneficiary_id
      WHERE s.month = $1 AND b.mobile IS NOT NULL AND b.sms_opt_out_at IS NULL${kind === 'PAID' ? ' AND s.payable_rials > 0' : ''}`,
    [month],
  );
  if (rows.length === 0) return 0;
  const when = kind === 'PAID' ? 'paid' : 'ready';
  const texts = rows.map((r) =>
    smsText({ month, payableRials: BigInt(r.payable_rials), carriedOutRials: BigInt(r.carried_out_rials) }, when),
  );
  const queued = await db.query(
    `INSERT INTO sms_messages (beneficiary_id, month, kind, mobile, text)
     SELECT id, $1, $2::sms_kind, mobile, text FROM unnest($3::int[], $4::text[], $5::text[]) AS t(id, mobile, text)
     ON CONFLICT (beneficiary_id, month, kind) DO NOTHING`,
    [month, kind, rows.map((r) => r.id), rows.map((r) => r.mobile), texts],
  );
  return queued.rowCount ?? 0;
}

/** An opt-out takes effect at once: the person's messages still queued are cancelled, in the caller's transaction. */
export async function cancelQueuedSms(tx: Pick<PrismaClient, 'smsMessage'>, beneficiaryId: number): Promise<number> {
  const { count } = await tx.smsMessage.updateMany({
    where: { beneficiaryId, status: 'QUEUED' },
    data: { status: 'CANCELLED' },
  });
  return count;
}
