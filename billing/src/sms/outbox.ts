// Queues the month's SMS in the transaction that makes them true: STATEMENT_READY when the month
// closes, PAID when its payout batch is marked paid. One message per person, month and kind (a
// repeated close or mark-paid queues nothing twice); people without a mobile or who opted out get
// none. The text is billing's (core/sms-text.ts): a month and an amount, never a national code or Sheba.
import type pg from 'pg';
import type { PrismaClient } from '../../../prisma/generated/client/client';
import { smsRecipientsOf } from '../../../registry/index';
import { smsText } from '../core/sms-text';
import type { MonthId } from '../../../lib/program/solar-hijri';

export type SmsKind = 'STATEMENT_READY' | 'PAID';

export async function queueMonthSms(db: pg.ClientBase, month: MonthId, kind: SmsKind): Promise<number> {
  const statements = await db.query<{ id: number; payable_rials: string; carried_out_rials: string }>(
    `SELECT beneficiary_id AS id, payable_rials, carried_out_rials FROM statements
      WHERE month = $1${kind === 'PAID' ? ' AND payable_rials > 0' : ''}`,
    [month],
  );
  const recipients = await smsRecipientsOf(
    db,
    statements.rows.map((s) => s.id),
  );
  const rows = statements.rows.flatMap((s) => {
    const to = recipients.get(s.id);
    return to?.mobile && !to.optedOut ? [{ ...s, mobile: to.mobile }] : [];
  });
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
