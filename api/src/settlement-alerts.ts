// Reconciling settlements and telling technicians: billing compares each settlement with telemetry,
// and the alerts component raises (or closes) a METER_SHORTFALL alert for each export meter found
// below our counters. Used by the API route and the operator CLI.
import { type AlertsConfig, alertMeterShortfalls } from '../../alerts';
import { type ReconcileSummary, reconcileSettlements, type SettlementDeps } from '../../billing';

export async function reconcileAndAlert(
  deps: SettlementDeps,
  alerts: AlertsConfig,
  options: { all?: boolean } = {},
): Promise<ReconcileSummary> {
  const summary = await reconcileSettlements(deps, options);
  await alertMeterShortfalls(deps.pool, alerts, summary);
  return summary;
}
