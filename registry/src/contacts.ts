// How billing reaches beneficiaries: the bank account a payout goes to and the mobile an SMS goes
// to. Read for the ids billing asks about, on its client (inside its transaction).
import type pg from 'pg';

/** A node-postgres pool or one of its clients (a transaction's). */
type Sql = Pick<pg.Pool, 'query'>;

export interface Payee {
  /** Null when the beneficiary has no Sheba on record: their payout is withheld. */
  sheba: string | null;
  fullName: string;
}

/** Beneficiary id -> the name and Sheba a payout row carries. */
export async function payeesOf(sql: Sql, beneficiaryIds: readonly number[]): Promise<Map<number, Payee>> {
  const { rows } = await sql.query<{ id: number; sheba: string | null; full_name: string }>(
    'SELECT id, sheba, full_name FROM beneficiaries WHERE id = ANY($1::int[])',
    [beneficiaryIds],
  );
  return new Map(rows.map((r) => [r.id, { sheba: r.sheba, fullName: r.full_name }]));
}

export interface SmsRecipient {
  mobile: string | null;
  optedOut: boolean;
}

/** Beneficiary id -> their mobile and whether they opted out of SMS. */
export async function smsRecipientsOf(sql: Sql, beneficiaryIds: readonly number[]): Promise<Map<number, SmsRecipient>> {
  const { rows } = await sql.query<{ id: number; mobile: string | null; opted_out: boolean }>(
    'SELECT id, mobile, sms_opt_out_at IS NOT NULL AS opted_out FROM beneficiaries WHERE id = ANY($1::int[])',
    [beneficiaryIds],
  );
  return new Map(rows.map((r) => [r.id, { mobile: r.mobile, optedOut: r.opted_out }]));
}
