import { describe, expect, it } from 'vitest';
import type { ConfigError } from '../../lib/config';
import { readAlertsConfig } from './config';

const valid = {
  INFLUX_URL: 'http://127.0.0.1:8086',
  INFLUX_READER_USERNAME: 'solar_reader',
  INFLUX_READER_PASSWORD: 'x',
  DATABASE_URL: 'postgresql://u:p@127.0.0.1:5432/solar',
};
const problemsOf = (env: Record<string, string>): string[] => {
  try {
    readAlertsConfig(env);
  } catch (error) {
    return (error as ConfigError).problems;
  }
  return [];
};

describe('alerts configuration', () => {
  it("prices income at risk with the program's step-downs, refused with the message billing gives", () => {
    expect(readAlertsConfig({ ...valid, BILLING_STEP_DOWNS: '10:85' }).stepDowns).toEqual([
      { fromYear: 10, percent: 85 },
    ]);
    expect(problemsOf({ ...valid, BILLING_STEP_DOWNS: '8-90' })).toEqual([
      "BILLING_STEP_DOWNS: '8-90' is not a step-down written YEAR:PERCENT (year ≥ 2, percent ≤ 100), e.g. 8:90",
    ]);
  });

  it("does not read billing's own settings, nor name a shared one twice", () => {
    expect(readAlertsConfig({ ...valid, BILLING_CLOSE_DAY: '31', BILLING_DRAFT_CRON: 'never' }).stepDowns).toHaveLength(
      3,
    );
    expect(problemsOf({ ...valid, DATABASE_URL: '' })).toEqual(['DATABASE_URL is required']);
  });
});
