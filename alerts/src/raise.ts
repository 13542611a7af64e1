// The entry for other components: open (or refresh) an alert of a given rule about an installation,
// priced like every other alert, notified and reminded like them; and close it when its cause is gone.
//   import { raiseAlert, closeRaisedAlert, readAlertsConfig } from '../../alerts/index';
//   await raiseAlert(pool, config, { rule: 'METER_SHORTFALL', installationId, cause: 'export_meter', severity: 'MAJOR',
//     summary: 'export meter 18 % below telemetry in 1405-08', lostKwhPerDay: 3.2, detail: { ... } });
import type pg from 'pg';
import { withTransaction } from '../../lib/transaction';
import { tehranDate } from '../../lib/program/tehran-time';
import { lostRialsPerDay, paidRialPerKwh, roundKwh } from './core/loss';
import type { AlertCause, AlertRule, AlertSeverity } from './core/types';
import type { AlertsConfig } from './config';
import { readRegistry } from './read-inputs';
import { clearAlerts, notifyOf, upsertFindings } from './store';

interface RaisedFields {
  installationId: number;
  /** Distinguishes several alerts of one rule on one installation; default: one per rule and installation. */
  subject?: string;
  severity: AlertSeverity;
  summary: string;
  lostKwhPerDay: number;
  detail?: Record<string, unknown>;
  /** Who raises it, for the timeline (e.g. `settlements`). */
  actor: string;
}
/** An alert another component raises: a rule and one of that rule's causes (types.ts, `ALERT_CAUSES`). */
export type RaiseAlert = { [R in AlertRule]: RaisedFields & { rule: R; cause: AlertCause<R> } }[AlertRule];

export const raisedKey = (a: Pick<RaiseAlert, 'rule' | 'installationId' | 'subject'>) =>
  `${a.rule}:installation:${a.installationId}${a.subject ? `:${a.subject}` : ''}`;

/** Opens the alert, or refreshes it if already active. Returns its key. */
export async function raiseAlert(
  pool: pg.Pool,
  config: AlertsConfig,
  alert: RaiseAlert,
  nowMs = Date.now(),
): Promise<string> {
  const [key] = await raiseAlerts(pool, config, [alert], nowMs);
  return key!;
}

/** Opens or refreshes several alerts in one transaction, reading the registry once. Returns their keys. */
export async function raiseAlerts(
  pool: pg.Pool,
  config: AlertsConfig,
  alerts: readonly RaiseAlert[],
  nowMs = Date.now(),
): Promise<string[]> {
  if (alerts.length === 0) return [];
  return withTransaction(pool, async (client) => {
    const registry = new Map(
      (await readRegistry(client, nowMs, config.stepDowns)).map((installation) => [installation.id, installation]),
    );
    const findings = alerts.map((alert) => {
      const installation = registry.get(alert.installationId);
      if (!installation) throw new RangeError(`installation ${alert.installationId} is not commissioned`);
      const lostKwhPerDay = roundKwh(alert.lostKwhPerDay);
      return {
        key: raisedKey(alert),
        rule: alert.rule,
        cause: alert.cause,
        severity: alert.severity,
        installationId: installation.id,
        inverterId: null,
        provinceId: installation.provinceId,
        area: null,
        affectedInstallations: 1,
        summary: alert.summary.slice(0, 300),
        lostKwhPerDay,
        lostRialsPerDay: lostRialsPerDay(lostKwhPerDay, installation.rate),
        rialPerKwh: paidRialPerKwh(installation.rate),
        detail: { ...alert.detail, raisedOn: tehranDate(nowMs) },
      };
    });
    // One actor per call: the timeline names who raised the batch.
    await upsertFindings(client, findings, nowMs, config.reminders, notifyOf(config.notifications), alerts[0]!.actor);
    return findings.map((f) => f.key);
  });
}

/** Clears the active alert with this key (its cause went away). Returns whether one was open. */
export async function closeRaisedAlert(
  pool: pg.Pool,
  config: AlertsConfig,
  key: string,
  actor: string,
  nowMs = Date.now(),
): Promise<boolean> {
  return (await closeRaisedAlerts(pool, config, [key], actor, nowMs)) > 0;
}

/** Clears the active alerts with these keys. Returns how many were open. */
export async function closeRaisedAlerts(
  pool: pg.Pool,
  config: AlertsConfig,
  keys: readonly string[],
  actor: string,
  nowMs = Date.now(),
): Promise<number> {
  if (keys.length === 0) return 0;
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ id: string; key: string; cause: string; detail: Record<string, unknown> }>(
      `SELECT id, key, cause, detail FROM alerts WHERE key = ANY($1) AND state IN ('OPEN', 'ACKNOWLEDGED')`,
      [keys],
    );
    return clearAlerts(
      client,
      rows.map((r) => ({ id: BigInt(r.id), key: r.key, cause: r.cause, detail: r.detail })),
      nowMs,
      notifyOf(config.notifications),
      actor,
    );
  });
}
