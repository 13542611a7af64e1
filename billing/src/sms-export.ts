// The monthly SMS of a closed month, for the program's SMS gateway: a CSV of mobile,text, one row
// per beneficiary with a statement and a mobile on record (the text is billing/src/core/sms-text.ts,
// the same one the portal shows). People without a mobile are counted, not silently skipped.
import type pg from 'pg';
import { csvDocument } from '../../lib/csv';
import { smsRecipientsOf } from '../../registry/index';
import { smsText } from './core/sms-text';
import type { MonthId } from '../../lib/program/solar-hijri';
import { BillingError } from './errors';
import { monthStatus } from './run-month';

export interface SmsExport {
  csv: string;
  rows: number;
  withoutMobile: number;
}

export async function monthSmsCsv(db: pg.Pool | pg.ClientBase, month: MonthId): Promise<SmsExport> {
  const status = await monthStatus(db as pg.ClientBase, month);
  if (status === null) throw new BillingError('not_found', `${month} has not been billed`);
  if (status === 'DRAFT') throw new BillingError('not_closed', `${month} is a draft: its SMS go out once it is closed`);
  const { rows } = await db.query<{ beneficiary_id: number; payable_rials: string; carried_out_rials: string }>(
    'SELECT beneficiary_id, payable_rials, carried_out_rials FROM statements WHERE month = $1 ORDER BY beneficiary_id',
    [month],
  );
  const recipients = await smsRecipientsOf(
    db,
    rows.map((r) => r.beneficiary_id),
  );
  const messages = rows
    .map((row) => ({ ...row, mobile: recipients.get(row.beneficiary_id)?.mobile }))
    .filter((row) => row.mobile)
    .map((row) => [
      row.mobile!,
      smsText({ month, payableRials: BigInt(row.payable_rials), carriedOutRials: BigInt(row.carried_out_rials) }),
    ]);
  return {
    csv: csvDocument(['mobile', 'text'], messages),
    rows: messages.length,
    withoutMobile: rows.length - messages.length,
  };
}
