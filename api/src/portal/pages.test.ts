// The statement's words for a month whose energy was split: one line per price, and a split
// explained only by what really changed (a tariff, a contract's step-down, a share's start or end).
import { describe, expect, it } from 'vitest';
import { dayNameFa } from '../../../lib/program/solar-hijri';
import { tehranMidnight } from '../../../lib/program/tehran-time';
import { type Segment, type StatementLineView, statementPage } from './pages';

const day = (iso: string) => dayNameFa(tehranMidnight(iso) + 12 * 3_600_000);
const segment = (fromDate: string, toDate: string, rialPerKwh: number, percent: number, contractYear: number) =>
  ({
    fromDate,
    toDate,
    wh: 100_000,
    rials: String((100 * rialPerKwh * percent) / 100),
    rialPerKwh,
    percent,
    contractYear,
  }) as Segment;

function render(
  segments: Segment[],
  share?: StatementLineView['share'],
  activeDays = 30,
  loans: StatementLineView['loans'] = [],
): string {
  const gross = segments.reduce((t, s) => t + BigInt(s.rials), 0n);
  const line: StatementLineView = {
    installationCode: 'INST-1',
    installationName: 'بام',
    people: 1,
    capacityW: 5000,
    weightW: 5000,
    activeDays,
    rials: gross,
    energyWh: segments.reduce((t, s) => t + s.wh, 0),
    grossRials: gross,
    adjustmentRials: 0n,
    loanRials: loans.reduce((t, l) => t + l.deductedRials, 0n),
    feeRials: 0n,
    netRials: gross,
    segments,
    adjustments: [],
    loans,
    share,
  };
  const month = {
    month: '1405-08',
    status: 'CLOSED' as const,
    earnedRials: gross,
    carriedInRials: 0n,
    payableRials: gross,
    carriedOutRials: 0n,
    paidAt: null,
  };
  return statementPage(
    { name: 'زهرا', self: true, month, monthDays: 30, lines: [line], shebaMasked: null, sms: '' },
    false,
  ).text;
}

describe("a statement's rate lines", () => {
  it('shows consecutive segments at the same price as one line, with no change claimed', () => {
    // Billing split Aban at the contract's anniversary (year 2 → 3) with no step-down: same price.
    const text = render([
      segment('2026-10-23', '2026-11-05', 38_500, 100, 2),
      segment('2026-11-06', '2026-11-21', 38_500, 100, 3),
    ]);
    expect(text).toContain('برق آن کیلوواتی <bdi>۳۸٬۵۰۰</bdi> ریال فروخته شد');
    expect(text).not.toContain('عوض شد');
    expect(text).not.toContain('<li>');
  });

  it('explains a tariff change by the tariff, from the day it changed', () => {
    const text = render([
      segment('2026-10-23', '2026-11-05', 30_000, 100, 2),
      segment('2026-11-06', '2026-11-21', 38_500, 100, 2),
    ]);
    expect(text).toContain(
      `از <bdi>${day('2026-11-06')}</bdi> نرخ خرید برق از <bdi>۳۰٬۰۰۰</bdi> ریال به <bdi>۳۸٬۵۰۰</bdi> ریال برای هر کیلووات‌ساعت تغییر کرد`,
    );
    expect(text).not.toContain('سال ۲ قرارداد');
    expect(text.match(/<li>/g)).toHaveLength(2);
  });

  it("explains a step-down by the contract's year, and merges same-price segments around it", () => {
    const text = render([
      segment('2026-10-23', '2026-10-30', 38_500, 100, 7),
      segment('2026-10-31', '2026-11-10', 38_500, 90, 8),
      segment('2026-11-11', '2026-11-21', 38_500, 90, 8),
    ]);
    expect(text).toContain(
      `از <bdi>${day('2026-10-31')}</bdi> سال <bdi>۸</bdi> قرارداد نیروگاه شروع شد و طبق قرارداد از آن روز <bdi>۹۰</bdi> درصد نرخ پرداخت می‌شود`,
    );
    expect(text).not.toContain('نرخ خرید برق از');
    expect(text.match(/<li>/g)).toHaveLength(2);
    expect(text).toContain(`تا <bdi>${day('2026-11-21')}</bdi>`);
  });

  it('explains fewer days than the month by the share starting or ending', () => {
    const started = render(
      [segment('2026-10-23', '2026-11-21', 38_500, 100, 2)],
      { startedOn: '2026-11-06', endedOn: null },
      16,
    );
    expect(started).toContain(
      `برای <bdi>۱۶</bdi> روز از <bdi>۳۰</bdi> روز ماه، چون سهم شما از <bdi>${day('2026-11-06')}</bdi> شروع شد`,
    );
    const ended = render(
      [segment('2026-10-23', '2026-11-21', 38_500, 100, 2)],
      { startedOn: null, endedOn: '2026-11-05' },
      14,
    );
    expect(ended).toContain(`چون سهم شما <bdi>${day('2026-11-05')}</bdi> تمام شد`);
    const whole = render([segment('2026-10-23', '2026-11-21', 38_500, 100, 2)], { startedOn: null, endedOn: null });
    expect(whole).not.toContain('چون');
    expect(whole).not.toContain('عوض شد');
  });
});

describe("a statement's loan", () => {
  it('says what the plant still owes after the installment, and when the installment ends the loan', () => {
    const sale = [segment('2026-10-23', '2026-11-21', 38_500, 100, 2)];
    const owing = render(sale, undefined, 30, [
      { reference: 'L-7', deductedRials: 2_000_000n, balanceRials: 18_000_000n },
    ]);
    expect(owing).toContain('قسط وام نیروگاه (<bdi>۲٬۰۰۰٬۰۰۰</bdi> ریال)');
    expect(owing).toContain(
      'از وام نیروگاه (<bdi dir="ltr">L-7</bdi>) پس از قسط این ماه <bdi>۱۸٬۰۰۰٬۰۰۰</bdi> ریال مانده است.',
    );
    const last = render(sale, undefined, 30, [{ reference: 'L-7', deductedRials: 500_000n, balanceRials: 0n }]);
    expect(last).toContain('با قسط این ماه وام نیروگاه (<bdi dir="ltr">L-7</bdi>) تمام شد.');
    expect(render(sale)).not.toContain('وام نیروگاه (');
  });
});
