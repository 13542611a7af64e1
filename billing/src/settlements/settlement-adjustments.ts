// Under the `adjust` difference policy, a reconciled settlement whose money differs from what
// billing priced beyond tolerance is carried to the installation's beneficiaries: an adjustment
// line in the month being billed, for what has not been carried yet (earlier months' lines count,
// drafts included, as with late data: an earlier open month closes first, so nothing is carried
// twice). Under `absorb` nothing new is carried, and nothing already carried is reversed.
import type pg from 'pg';
import type { Adjustment } from '../core/bill-installation';
import { reconcileSettlement, type SettlementPolicy } from '../core/reconcile-settlement';
import { monthOf, type MonthId } from '../../../lib/program/solar-hijri';
import { tehranMidnight } from '../../../lib/program/tehran-time';

const NOON_MS = 12 * 3_600_000; // a date's month is the month of its Tehran noon
const rialsText = (n: bigint) => `${n < 0n ? '-' : ''}${(n < 0n ? -n : n).toLocaleString('en-US')}`;

export async function settlementAdjustments(
  db: pg.ClientBase,
  month: MonthId,
  policy: SettlementPolicy,
): Promise<Map<number, Adjustment[]>> {
  const out = new Map<number, Adjustment[]>();
  if (policy.differencePolicy === 'absorb') return out;
  const { rows } = await db.query<{
    id: number;
    installation_id: number;
    reference: string;
    period_from: string;
    last_day: string;
    amount_rials: string;
    billed_rials: string;
    metered_wh: string;
    telemetry_wh: string;
    status: string;
    carried: string;
  }>(
    `SELECT s.id, s.installation_id, s.reference, to_char(s.period_from, 'YYYY-MM-DD') AS period_from,
            to_char(s.period_until - 1, 'YYYY-MM-DD') AS last_day, s.amount_rials, s.billed_rials, s.metered_wh,
            s.telemetry_wh, s.status,
            COALESCE((SELECT sum(a.rials) FROM settlement_adjustments a WHERE a.settlement_id = s.id AND a.month < $1), 0) AS carried
       -- The figures in force: a corrected settlement carries only what its correction changes.
       FROM settlements_in_force s
      WHERE s.status IS NOT NULL
      ORDER BY s.id`,
    [month],
  );
  for (const s of rows) {
    const { targetAdjustmentRials } = reconcileSettlement(
      {
        telemetryWh: BigInt(s.telemetry_wh),
        telemetryComplete: s.status !== 'TELEMETRY_MISSING',
        meteredWh: BigInt(s.metered_wh),
        billedRials: BigInt(s.billed_rials),
        settledRials: BigInt(s.amount_rials),
      },
      policy,
    );
    const carried = BigInt(s.carried);
    const rials = targetAdjustmentRials - carried;
    if (rials === 0n) continue;
    const meterPercent = (Number(s.metered_wh) / Number(s.telemetry_wh) - 1) * 100;
    const list = out.get(s.installation_id) ?? [];
    list.push({
      forMonth: monthOf(tehranMidnight(s.last_day) + NOON_MS),
      wh: 0,
      rials,
      reason:
        `settlement ${s.reference} for ${s.period_from} to ${s.last_day}: the distribution company paid ` +
        `${rialsText(BigInt(s.amount_rials))} Rials for energy our counters priced at ` +
        `${rialsText(BigInt(s.billed_rials))} (its meter read ${Math.abs(meterPercent).toFixed(1)} % ` +
        `${meterPercent < 0 ? 'less' : 'more'}); ` +
        `${carried === 0n ? 'the difference is carried' : `${rialsText(carried)} carried before, this line is the change`}`,
      settlementId: s.id,
    });
    out.set(s.installation_id, list);
  }
  return out;
}
