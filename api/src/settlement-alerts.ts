// Reconciling settlements and telling technicians: billing compares each settlement with telemetry;
// an export meter reading below telemetry beyond tolerance is a meter or line to check, raised as a
// METER_SHORTFALL alert (one per settlement, priced by the energy the meter did not count). A later
// reconciliation of the same settlement that no longer finds the shortfall (a corrected settlement
// re-imported) closes it. Used by the API route and the operator CLI.
import { type AlertsConfig, closeRaisedAlerts, raiseAlerts, raisedKey } from '../../alerts';
import { type ReconcileSummary, reconcileSettlements, type SettlementDeps } from '../../billing';

const RULE = 'METER_SHORTFALL' as const;
const subject = (settlementId: number) => `settlement-${settlementId}`;

export async function reconcileAndAlert(
  deps: SettlementDeps,
  alerts: AlertsConfig,
  options: { all?: boolean } = {},
): Promise<ReconcileSummary> {
  const summary = await reconcileSettlements(deps, options);
  await raiseAlerts(
    deps.pool,
    alerts,
    summary.meterProblems.map((p) => ({
      rule: RULE,
      installationId: p.installationId,
      subject: subject(p.settlementId),
      cause: 'export_meter',
      severity: 'MAJOR',
      summary: `export meter ${Math.abs(p.energyDifferencePercent ?? 0)} % below our counters from ${p.periodFrom} to ${p.periodUntil} (settlement ${p.reference}): check the meter and the line to it`,
      lostKwhPerDay: p.missingKwhPerDay,
      detail: {
        settlementId: p.settlementId,
        reference: p.reference,
        energyDifferencePercent: p.energyDifferencePercent,
      },
      actor: 'settlements',
    })),
  );
  await closeRaisedAlerts(
    deps.pool,
    alerts,
    summary.meterAgrees.map((a) =>
      raisedKey({ rule: RULE, installationId: a.installationId, subject: subject(a.settlementId) }),
    ),
    'settlements',
  );
  return summary;
}
