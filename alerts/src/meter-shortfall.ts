// METER_SHORTFALL, raised from billing's reconciliation of the distribution company's settlements:
// an export meter reading below our counters beyond tolerance is a meter or line to check. One
// alert per settlement, priced by the energy the meter did not count; a later reconciliation of the
// same settlement that no longer finds the shortfall (a corrected settlement re-imported) closes it.
import type pg from 'pg';
import type { ReconcileSummary } from '../../billing/index';
import type { AlertsConfig } from './config';
import { closeRaisedAlerts, raiseAlerts, raisedKey } from './raise';

const RULE = 'METER_SHORTFALL';
const subject = (settlementId: number) => `settlement-${settlementId}`;
/** Who raises and closes them, on the alerts' timeline. */
const ACTOR = 'settlements';

/** Opens (or refreshes) an alert for each meter problem the reconciliation found, and closes those it found resolved. */
export async function alertMeterShortfalls(
  pool: pg.Pool,
  config: AlertsConfig,
  summary: Pick<ReconcileSummary, 'meterProblems' | 'meterAgrees'>,
): Promise<void> {
  await raiseAlerts(
    pool,
    config,
    summary.meterProblems.map((p) => ({
      rule: RULE,
      installationId: p.installationId,
      subject: subject(p.settlementId),
      cause: 'export_meter',
      severity: 'MAJOR',
      summary:
        `export meter ${Math.abs(p.energyDifferencePercent ?? 0)} % below our counters from ${p.periodFrom} ` +
        `to ${p.periodUntil} (settlement ${p.reference}): check the meter and the line to it`,
      lostKwhPerDay: p.missingKwhPerDay,
      detail: {
        settlementId: p.settlementId,
        reference: p.reference,
        energyDifferencePercent: p.energyDifferencePercent,
      },
      actor: ACTOR,
    })),
  );
  await closeRaisedAlerts(
    pool,
    config,
    summary.meterAgrees.map((a) =>
      raisedKey({ rule: RULE, installationId: a.installationId, subject: subject(a.settlementId) }),
    ),
    ACTOR,
  );
}
