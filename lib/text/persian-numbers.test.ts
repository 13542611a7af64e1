import { describe, expect, it } from 'vitest';
import { faInteger, faNumber, kwFa, kwhFa, rialsFa, roundTomanFa, tomanFa } from './persian-numbers';

describe('Persian numbers and money', () => {
  it('writes Persian digits with the Persian thousands separator', () => {
    expect(faNumber(1_234_567)).toBe('۱٬۲۳۴٬۵۶۷');
    expect(faNumber(0)).toBe('۰');
    expect(faNumber(123_456_789_012_345_678n)).toBe('۱۲۳٬۴۵۶٬۷۸۹٬۰۱۲٬۳۴۵٬۶۷۸'); // exact beyond 2^53
    expect(faInteger(1405)).toBe('۱۴۰۵');
  });

  it('turns Rials into exact Toman, with a tenth only when there is one', () => {
    expect(tomanFa(17_858_439n)).toBe('۱٬۷۸۵٬۸۴۳٫۹');
    expect(tomanFa(17_858_430n)).toBe('۱٬۷۸۵٬۸۴۳');
    expect(tomanFa(5n)).toBe('۰٫۵');
    expect(tomanFa(-20n)).toBe('−۲');
    expect(rialsFa(2_000_000n)).toBe('۲٬۰۰۰٬۰۰۰');
    expect(rialsFa(-769_732n)).toBe('−۷۶۹٬۷۳۲');
  });

  it('rounds estimates to whole Toman, halves up', () => {
    expect(roundTomanFa(616_398n)).toBe('۶۱٬۶۴۰');
    expect(roundTomanFa(616_394n)).toBe('۶۱٬۶۳۹');
    expect(roundTomanFa(616_395n)).toBe('۶۱٬۶۴۰');
  });

  it('writes energy and power in kWh and kW', () => {
    expect(kwhFa(1_282_949)).toBe('۱٬۲۸۲٫۹');
    expect(kwhFa(1_282_950)).toBe('۱٬۲۸۳');
    expect(kwhFa(0)).toBe('۰');
    expect(kwFa(5000)).toBe('۵');
    expect(kwFa(1250)).toBe('۱٫۲۵');
    expect(kwFa(15_000)).toBe('۱۵');
  });
});
