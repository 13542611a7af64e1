import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reconcileSettlement, type SettlementPolicy, settlementTimeliness } from './reconcile-settlement';

const policy: SettlementPolicy = {
  energyToleranceBasisPoints: 500,
  amountToleranceBasisPoints: 500,
  lateAfterDays: 45,
  differencePolicy: 'absorb',
};
const adjust = { ...policy, differencePolicy: 'adjust' as const };
const base = {
  telemetryWh: 1_000_000n,
  telemetryComplete: true,
  meteredWh: 990_000n,
  billedRials: 30_000_000n,
  settledRials: 29_700_000n,
};

describe('reconcileSettlement', () => {
  it('a meter that agrees with telemetry within tolerance reconciles, and nothing is carried', () => {
    const r = reconcileSettlement(base, adjust);
    expect(r).toEqual({
      status: 'WITHIN_TOLERANCE',
      energyDifferencePercent: -1,
      amountDifferenceRials: -300_000n,
      targetAdjustmentRials: 0n,
    });
  });

  it('a meter 15 % below telemetry is flagged; under adjust its money difference is carried', () => {
    const low = { ...base, meteredWh: 850_000n, settledRials: 25_500_000n };
    expect(reconcileSettlement(low, policy)).toMatchObject({
      status: 'METER_BELOW_TELEMETRY',
      energyDifferencePercent: -15,
      targetAdjustmentRials: 0n,
    });
    expect(reconcileSettlement(low, adjust).targetAdjustmentRials).toBe(-4_500_000n);
  });

  it('tolerance boundaries are exact: 5.00 % is within, one Wh more is not', () => {
    expect(reconcileSettlement({ ...base, meteredWh: 950_000n, settledRials: 30_000_000n }, policy).status).toBe(
      'WITHIN_TOLERANCE',
    );
    expect(reconcileSettlement({ ...base, meteredWh: 949_999n, settledRials: 30_000_000n }, policy).status).toBe(
      'METER_BELOW_TELEMETRY',
    );
    expect(reconcileSettlement({ ...base, meteredWh: 1_050_001n }, policy).status).toBe('METER_ABOVE_TELEMETRY');
  });

  it('energy that agrees but money that does not is an amount difference (a deduction or a dispute)', () => {
    const r = reconcileSettlement({ ...base, meteredWh: 1_000_000n, settledRials: 20_000_000n }, adjust);
    expect(r.status).toBe('AMOUNT_BELOW_BILLED');
    expect(r.targetAdjustmentRials).toBe(-10_000_000n);
  });

  it('missing telemetry is flagged and never carried: late data pays that energy itself', () => {
    for (const input of [
      { ...base, telemetryComplete: false },
      { ...base, telemetryWh: 0n },
    ]) {
      const r = reconcileSettlement(input, adjust);
      expect(r.status).toBe('TELEMETRY_MISSING');
      expect(r.targetAdjustmentRials).toBe(0n);
    }
  });

  it('carries exactly the money difference, or nothing, whatever the figures', () => {
    const wh = fc.bigInt({ min: 0n, max: 10n ** 12n });
    const rials = fc.bigInt({ min: 0n, max: 10n ** 15n });
    fc.assert(
      fc.property(wh, wh, rials, rials, fc.boolean(), (telemetryWh, meteredWh, billedRials, settledRials, complete) => {
        const input = { telemetryWh, meteredWh, billedRials, settledRials, telemetryComplete: complete };
        const r = reconcileSettlement(input, adjust);
        expect(r.amountDifferenceRials).toBe(settledRials - billedRials);
        expect([0n, settledRials - billedRials]).toContain(r.targetAdjustmentRials);
        if (r.status === 'WITHIN_TOLERANCE') expect(r.targetAdjustmentRials).toBe(0n);
        expect(reconcileSettlement(input, policy).targetAdjustmentRials).toBe(0n);
      }),
    );
  });
});

describe('settlementTimeliness', () => {
  it('is paid once money arrived, due within the grace days after the period, late after', () => {
    expect(settlementTimeliness('2026-09-23', '2026-11-01', '2026-12-30', 45)).toBe('paid');
    expect(settlementTimeliness('2026-09-23', null, '2026-11-07', 45)).toBe('due');
    expect(settlementTimeliness('2026-09-23', null, '2026-11-08', 45)).toBe('late');
  });
});
