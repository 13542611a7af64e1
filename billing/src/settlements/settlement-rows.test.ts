import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../../lib/csv';
import { parseSettlementRows } from './settlement-rows';

const parse = (text: string) => parseSettlementRows(parseCsv(text));
const HEADER = 'installation_code,period_start,period_end,metered_kwh,amount_rials,reference,paid_on';

describe('parseSettlementRows', () => {
  it('reads Solar Hijri periods (both days included) and exact kWh, with Persian digits and separators', () => {
    const { rows, errors } = parse(
      `${HEADER}\nINST-1,۱۴۰۵/۰۷/۰۱,۱۴۰۵/۰۸/۳۰,"۱٬۲۳۴٫۵",۳۷٬۰۳۵٬۰۰۰,TAV-1405-4,\nINST-2,1405-7-1,1405-8-30,0.001,0,TAV-9,1405/09/15\n`,
    );
    expect(errors).toEqual([]);
    expect(rows[0]).toEqual({
      line: 2,
      installationCode: 'INST-1',
      exportMeter: null,
      periodFrom: '2026-09-23', // 1 Mehr 1405
      periodUntil: '2026-11-22', // the day after 30 Aban 1405
      meteredWh: 1_234_500n,
      amountRials: 37_035_000n,
      reference: 'TAV-1405-4',
      paidOn: null,
    });
    expect(rows[1]).toMatchObject({ meteredWh: 1n, amountRials: 0n, paidOn: '2026-12-06' });
  });

  it('accepts meters instead of installation codes', () => {
    const { rows, errors } = parse(
      'export_meter,period_start,period_end,metered_kwh,amount_rials,reference\n۴۴۱۲۰۰۹,1405/07/01,1405/08/30,10,1,R\n',
    );
    expect(errors).toEqual([]);
    expect(rows[0]).toMatchObject({ installationCode: null, exportMeter: '4412009' });
  });

  it('reports every bad row by line and column, in words that say how to fix it', () => {
    const { errors } = parse(
      [
        HEADER,
        'INST-1,1405/07/01,1405/08/30,12.3456,100,R1,',
        'INST-2,1405/07/31,1405/08/30,1,100,R2,',
        'INST-3,1405/08/01,1405/07/30,1,100,R3,',
        'INST-4,1405/07/01,1405/08/30,1,-5,R4,',
        'INST-5,1405/07/01,1405/08/30,1,5,,',
        'INST-6,1405/07/01,1405/08/30,1,5,R6,1405/06/30',
        'INST-7,1405/01/01,1405/12/29,1,5,R7,',
        'INST-8,1405/07/01,1405/08/30,1,5,R8,',
        'INST-8,1405/08/01,1405/09/30,1,5,R8b,',
      ].join('\n'),
    );
    expect(errors).toEqual([
      { line: 2, column: 'metered_kwh', reason: "must be kWh ≥ 0 with at most 3 decimals, got '12.3456'" },
      { line: 3, column: 'period_start', reason: "'1405/07/31': 1405-07 has days 1 to 30" },
      { line: 4, column: 'period_end', reason: 'must not be before period_start' },
      { line: 5, column: 'amount_rials', reason: "must be whole Rials ≥ 0, got '-5'" },
      { line: 6, column: 'reference', reason: 'is required (at most 60 characters)' },
      { line: 7, column: 'paid_on', reason: 'is before the period starts' },
      { line: 8, column: 'period_end', reason: 'the period is longer than 186 days; check the dates' },
      { line: 10, column: 'period_start', reason: 'overlaps the period on line 9 for the same installation' },
    ]);
  });

  it('refuses a header without the columns it needs, naming them', () => {
    expect(parse('installation_code,period_start,amount\nX,1405/01/01,1\n').errors).toEqual([
      {
        line: 1,
        column: 'period_end, metered_kwh, amount_rials, reference, amount',
        reason:
          'the header must name period_start, period_end, metered_kwh, amount_rials, reference, and ' +
          'installation_code or export_meter (optional: paid_on); missing period_end, metered_kwh, amount_rials, reference; unknown amount',
      },
    ]);
  });
});
