import { describe, expect, it } from 'vitest';
import { type ConfigError, EnvReader, readDatabaseUrl } from './config';
import { readTariffSettings } from './program/tariff-settings';

describe('reading the environment', () => {
  it('names a shared setting once, however many included readers read it', () => {
    const env = { DATABASE_URL: 'mysql://x', BILLING_STEP_DOWNS: '8-90' };
    const r = new EnvReader(env);
    for (let i = 0; i < 3; i++) {
      r.include(() => readDatabaseUrl(env));
      r.include(() => readTariffSettings(env));
    }
    let problems: string[] = [];
    try {
      r.done(null);
    } catch (error) {
      problems = (error as ConfigError).problems;
    }
    expect(problems).toEqual([
      'DATABASE_URL must use postgresql: or postgres:, got mysql:',
      "BILLING_STEP_DOWNS: '8-90' is not a step-down written YEAR:PERCENT (year ≥ 2, percent ≤ 100), e.g. 8:90",
    ]);
  });
});
