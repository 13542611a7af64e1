// The monthly SMS a beneficiary receives: month and amount in one Persian message that fits one
// SMS (70 UCS-2 characters; Persian needs UCS-2). Pure.
import { roundTomanFa } from '../../../lib/text/persian-numbers';
import { monthNameFa, type MonthId } from '../../../lib/program/solar-hijri';

/** One SMS of Persian text: GSM networks send 70 UCS-2 characters in a single message. */
export const SMS_MAX_CHARS = 70;

export interface SmsStatement {
  month: MonthId;
  payableRials: bigint;
  /** Below the minimum payout: carried to the next month instead of paid. */
  carriedOutRials: bigint;
}

/**
 * The month's text: 'paid' once the bank batch is marked paid (the text the portal shows), 'ready'
 * when the month closes and the amount is known but not yet transferred.
 */
export function smsText(s: SmsStatement, when: 'ready' | 'paid' = 'paid'): string {
  const month = monthNameFa(s.month);
  if (s.payableRials > 0n)
    return `درآمد خورشیدی ${month}: ${roundTomanFa(s.payableRials)} تومان، ${when === 'paid' ? 'واریز به حسابتان.' : 'به‌زودی واریز می‌شود.'}`;
  if (s.carriedOutRials > 0n)
    return `درآمد خورشیدی ${month}: ${roundTomanFa(s.carriedOutRials)} تومان، ماه بعد واریز می‌شود.`;
  return `درآمد خورشیدی ${month}: این ماه درآمدی نداشتید.`;
}
