import { describe, expect, it } from 'vitest';
import { type ContractTerms, contractYear, parseStepDowns, priceWh, rateOn } from './tariff';

const stepDowns = parseStepDowns('8:90,12:80,16:70');
const tariff = [{ from: '2020-03-20', until: null, rialPerKwh: 38_500 }];
const contract = (kind: ContractTerms['kind']): ContractTerms => ({
  reference: 'C-1',
  kind,
  startDate: '2020-03-20',
  periods: tariff,
});

describe('tariffs', () => {
  it('rounds once, halves up: Wh × Rial/kWh × percent', () => {
    expect(priceWh(1, { rialPerKwh: 25_000, percent: 100 })).toBe(25n);
    expect(priceWh(1, { rialPerKwh: 500, percent: 100 })).toBe(1n); // 0.5 Rial rounds up
    expect(priceWh(1, { rialPerKwh: 499, percent: 100 })).toBe(0n);
    expect(priceWh(12_345_678, { rialPerKwh: 38_500, percent: 90 })).toBe(427_777_743n); // 427,777,742.7
  });

  it('counts contract years from the anniversary of the start date', () => {
    expect(contractYear('2020-03-20', '2020-03-20')).toBe(1);
    expect(contractYear('2020-03-20', '2021-03-19')).toBe(1);
    expect(contractYear('2020-03-20', '2027-03-20')).toBe(8);
    expect(contractYear('2020-03-20', '2027-03-19')).toBe(7);
  });

  it('steps ordinary contracts down at the start of years 8, 12 and 16, never support contracts', () => {
    expect(rateOn(contract('ORDINARY'), '2027-03-19', stepDowns)).toEqual({
      rialPerKwh: 38_500,
      percent: 100,
      contractYear: 7,
    });
    expect(rateOn(contract('ORDINARY'), '2027-03-20', stepDowns)).toEqual({
      rialPerKwh: 38_500,
      percent: 90,
      contractYear: 8,
    });
    expect(rateOn(contract('ORDINARY'), '2031-04-01', stepDowns)?.percent).toBe(80);
    expect(rateOn(contract('ORDINARY'), '2036-01-01', stepDowns)?.percent).toBe(70);
    expect(rateOn(contract('SUPPORT'), '2036-01-01', stepDowns)?.percent).toBe(100);
    expect(rateOn(contract('SUPPORT'), '2019-01-01', stepDowns)).toBeNull();
  });

  it('names a malformed step-down', () => {
    expect(() => parseStepDowns('8:90,twelve:80')).toThrow(/'twelve:80' is not a step-down/);
    expect(parseStepDowns('')).toEqual([]);
  });
});
