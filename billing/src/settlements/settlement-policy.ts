// The lateness the cash position counts with (SETTLEMENT_LATE_AFTER_DAYS), recorded in PostgreSQL
// for Grafana, which cannot read the API's environment (billing/README.md, "Lateness"). One row.
import type pg from 'pg';
import type { SettlementPolicy } from '../core/reconcile-settlement';

export async function recordSettlementPolicy(
  db: pg.Pool | pg.ClientBase,
  policy: Pick<SettlementPolicy, 'lateAfterDays'>,
): Promise<void> {
  await db.query(
    `INSERT INTO settlement_policy (id, late_after_days) VALUES (true, $1)
     ON CONFLICT (id) DO UPDATE SET late_after_days = EXCLUDED.late_after_days, recorded_at = now()
      WHERE settlement_policy.late_after_days <> EXCLUDED.late_after_days`,
    [policy.lateAfterDays],
  );
}
