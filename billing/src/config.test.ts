import { describe, expect, it } from 'vitest';
import type { ConfigError } from '../../lib/config';
import { readBillingConfig } from './config';

const valid = {
  INFLUX_URL: 'http://127.0.0.1:8086',
  INFLUX_READER_USERNAME: 'solar_reader',
  INFLUX_READER_PASSWORD: 'x',
  DATABASE_URL: 'postgresql://u:p@127.0.0.1:5432/solar',
};

describe('billing configuration', () => {
  it('parses the money rules and names each bad one', () => {
    const config = readBillingConfig({ ...valid, BILLING_MAINTENANCE_FEE: '2.5%', BILLING_STEP_DOWNS: '8:90,12:80' });
    expect(config.rules).toEqual({
      maintenanceFee: { kind: 'percent', basisPoints: 250 },
      stepDowns: [
        { fromYear: 8, percent: 90 },
        { fromYear: 12, percent: 80 },
      ],
      minimumPayoutRials: 100_000n,
    });
    expect(config.influx.requestTimeoutMs).toBe(600_000);
    let error: unknown;
    try {
      readBillingConfig({
        ...valid,
        BILLING_MAINTENANCE_FEE: 'some',
        BILLING_STEP_DOWNS: '8-90',
        BILLING_DRAFT_CRON: 'every day',
        BILLING_CLOSE_DAY: '31',
      });
    } catch (e) {
      error = e;
    }
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/BILLING_MAINTENANCE_FEE: 'some' is not a maintenance fee/);
    expect(problems).toMatch(/BILLING_STEP_DOWNS: '8-90' is not a step-down/);
    expect(problems).toMatch(/BILLING_DRAFT_CRON: 'every day' is not a cron expression/);
    expect(problems).toMatch(/BILLING_CLOSE_DAY must be an integer from 1 to 29/);
  });
});
