import { describe, expect, it } from 'vitest';
import { SMS_MAX_CHARS, smsText } from './sms-text';

describe('the monthly SMS', () => {
  it('says the month and the amount in Persian', () => {
    expect(smsText({ month: '1405-08', payableRials: 17_858_439n, carriedOutRials: 0n })).toBe(
      'درآمد خورشیدی آبان ۱۴۰۵: ۱٬۷۸۵٬۸۴۴ تومان، واریز به حسابتان.',
    );
    expect(smsText({ month: '1405-02', payableRials: 0n, carriedOutRials: 85_000n })).toBe(
      'درآمد خورشیدی اردیبهشت ۱۴۰۵: ۸٬۵۰۰ تومان، ماه بعد واریز می‌شود.',
    );
    expect(smsText({ month: '1405-01', payableRials: 0n, carriedOutRials: 0n })).toContain('درآمدی نداشتید');
    // When the month closes, before the bank transfer: the amount, and that it is on its way.
    expect(smsText({ month: '1405-08', payableRials: 17_858_439n, carriedOutRials: 0n }, 'ready')).toBe(
      'درآمد خورشیدی آبان ۱۴۰۵: ۱٬۷۸۵٬۸۴۴ تومان، به‌زودی واریز می‌شود.',
    );
  });

  it('fits one SMS for the longest month names and large amounts', () => {
    for (let month = 1; month <= 12; month++) {
      const id = `1405-${String(month).padStart(2, '0')}`;
      for (const [payable, carried] of [
        [999_999_999n, 0n],
        [0n, 99_999n],
        [0n, 0n],
      ] as const)
        for (const when of ['ready', 'paid'] as const)
          expect(
            smsText({ month: id, payableRials: payable, carriedOutRials: carried }, when).length,
          ).toBeLessThanOrEqual(SMS_MAX_CHARS);
    }
  });
});
