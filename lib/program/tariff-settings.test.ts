import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config';
import { readTariffSettings } from './tariff-settings';

describe('the tariff settings', () => {
  it('reads the step-downs, by default 8:90,12:80,16:70', () => {
    expect(readTariffSettings({}).stepDowns).toEqual([
      { fromYear: 8, percent: 90 },
      { fromYear: 12, percent: 80 },
      { fromYear: 16, percent: 70 },
    ]);
    expect(readTariffSettings({ BILLING_STEP_DOWNS: '' }).stepDowns).toHaveLength(3);
    expect(readTariffSettings({ BILLING_STEP_DOWNS: '10:85' }).stepDowns).toEqual([{ fromYear: 10, percent: 85 }]);
  });

  it('refuses a malformed step-down, naming the variable, the value and the form expected', () => {
    expect(() => readTariffSettings({ BILLING_STEP_DOWNS: '8-90' })).toThrow(ConfigError);
    expect(() => readTariffSettings({ BILLING_STEP_DOWNS: '8-90' })).toThrow(
      "BILLING_STEP_DOWNS: '8-90' is not a step-down written YEAR:PERCENT (year ≥ 2, percent ≤ 100), e.g. 8:90",
    );
  });
});
