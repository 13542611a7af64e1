// Writes the evaluator's decisions to PostgreSQL: opens, updates and clears alerts with their
// timeline, schedules reminders and queues one notification per recipient for each. Batched
// (one statement per kind of change) so a large fleet costs a handful of round trips.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { jsonText } from '../../lib/json';
import { dueReminders, firstReminderAt, type ReminderPolicy } from './core/lifecycle';
import type { ActiveAlert, AlertSeverity, Clearance, EvaluationInputs, Finding } from './core/types';
import type { NotificationConfig } from './config';

export type Db = pg.ClientBase;
/** Timestamps are stored as UTC in `timestamp` columns (as Prisma does): pass epoch ms. */
const ts = (param: string) => `(to_timestamp(${param}::float8 / 1000) AT TIME ZONE 'UTC')`;
export const EVALUATOR = 'alerts';
const SEVERITY_RANK: Record<AlertSeverity, number> = { MAJOR: 0, MINOR: 1, WARNING: 2 };

export async function readActiveAlerts(db: Db): Promise<ActiveAlert[]> {
  const { rows } = await db.query<{
    id: string;
    key: string;
    rule: ActiveAlert['rule'];
    cause: string;
    detail: Record<string, unknown>;
  }>(`SELECT id, key, rule::text AS rule, cause, detail FROM alerts WHERE state IN ('OPEN', 'ACKNOWLEDGED')`);
  return rows.map((r) => ({ ...r, id: BigInt(r.id) }));
}

/** How long past silences are remembered when pricing a new one (see RuleContext.outageChance). */
const GAP_HISTORY_DAYS = 90;

/**
 * How the silences closed in the last 90 days turned out, counting only those whose counters gave
 * evidence across the gap: OFFLINE `outage` vs `communications`, AREA_OUTAGE `grid` vs `telecom`.
 */
export async function readGapHistory(db: Db, nowMs: number): Promise<EvaluationInputs['gapHistory']> {
  const { rows } = await db.query<{ rule: string; outages: number; communications: number }>(
    `SELECT rule::text AS rule,
            count(*) FILTER (WHERE cause IN ('outage', 'grid'))::int AS outages,
            count(*) FILTER (WHERE cause IN ('communications', 'telecom'))::int AS communications
       FROM alerts
      WHERE state = 'CLEARED' AND rule IN ('OFFLINE', 'AREA_OUTAGE')
        AND closed_at > ${ts('$1')} AND closed_at <= ${ts('$2')}
        AND (jsonb_typeof(detail->'gap'->'communicationsOnly') = 'boolean' OR (detail->>'conclusive')::int > 0)
      GROUP BY rule`,
    [nowMs - GAP_HISTORY_DAYS * 86_400_000, nowMs],
  );
  const of = (rule: string) => {
    const r = rows.find((x) => x.rule === rule);
    return { outages: r?.outages ?? 0, communications: r?.communications ?? 0 };
  };
  return { device: of('OFFLINE'), area: of('AREA_OUTAGE') };
}

export interface Recipients {
  channel: 'EMAIL' | 'WEBHOOK';
  /** An e-mail address, or a webhook's label (`webhookLabel`): a webhook URL carries its bot token. */
  recipient: string;
}
/**
 * What is stored and shown for a webhook: its origin and a fingerprint of the whole URL, never the
 * URL (its path or query holds the bot token). The deliverer finds the URL in ALERTS_WEBHOOK_URLS
 * by the fingerprint; migration 20261205151500 labelled the URLs stored before in the same way.
 */
export function webhookLabel(url: string): string {
  return `${new URL(url).origin} #${webhookFingerprint(url)}`;
}
export const webhookFingerprint = (url: string) => createHash('sha256').update(url).digest('hex').slice(0, 12);
export const fingerprintOfLabel = (label: string) => /#([0-9a-f]{12})$/.exec(label)?.[1] ?? null;

export const recipientsOf = (n: NotificationConfig): Recipients[] => [
  ...n.emailTo.map((recipient) => ({ channel: 'EMAIL' as const, recipient })),
  ...n.webhookUrls.map((url) => ({ channel: 'WEBHOOK' as const, recipient: webhookLabel(url) })),
];

export interface Notify {
  recipients: Recipients[];
  minSeverity: AlertSeverity;
  notifyOnClose: boolean;
}
export const notifyOf = (n: NotificationConfig): Notify => ({
  recipients: recipientsOf(n),
  minSeverity: n.minSeverity,
  notifyOnClose: n.notifyOnClose,
});

/** Queues one notification per recipient; a repeat (same alert, kind, sequence, recipient) is ignored. */
async function queueNotifications(
  db: Db,
  items: { alertId: bigint; severity: AlertSeverity; kind: 'OPENED' | 'REMINDER' | 'CLOSED'; sequence: number }[],
  notify: Notify,
  nowMs: number,
) {
  const rows = items
    .filter((i) => SEVERITY_RANK[i.severity] <= SEVERITY_RANK[notify.minSeverity])
    .flatMap((i) =>
      notify.recipients.map((r) => ({ alertId: i.alertId.toString(), kind: i.kind, sequence: i.sequence, ...r })),
    );
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO alert_notifications (alert_id, kind, sequence, channel, recipient, next_attempt_at)
     SELECT n."alertId", n.kind, n.sequence, n.channel::notification_channel, n.recipient, ${ts('$2')}
       FROM jsonb_to_recordset($1::jsonb) AS n("alertId" bigint, kind text, sequence int, channel text, recipient text)
     ON CONFLICT DO NOTHING`,
    [jsonText(rows), nowMs],
  );
}

async function addEvents(
  db: Db,
  events: { alertId: bigint; kind: string; note?: string; detail?: unknown }[],
  actor: string,
  nowMs: number,
) {
  if (events.length === 0) return;
  await db.query(
    `INSERT INTO alert_events (alert_id, at, actor, kind, note, detail)
     SELECT e."alertId", ${ts('$2')}, $3, e.kind, e.note, e.detail
       FROM jsonb_to_recordset($1::jsonb) AS e("alertId" bigint, kind text, note text, detail jsonb)`,
    [jsonText(events.map((e) => ({ ...e, alertId: e.alertId.toString() }))), nowMs, actor],
  );
}

export interface ApplyResult {
  opened: number;
  updated: number;
  cleared: number;
  reminded: number;
}

/** Opens new findings, refreshes the ones already open (re-labelling when the cause changed). */
export async function upsertFindings(
  db: Db,
  findings: Finding[],
  nowMs: number,
  reminders: ReminderPolicy,
  notify: Notify,
  actor = EVALUATOR,
): Promise<{ opened: number; updated: number }> {
  if (findings.length === 0) return { opened: 0, updated: 0 };
  const payload = jsonText(findings);
  const { rows: updated } = await db.query<{ id: string; key: string; oldCause: string; cause: string }>(
    `WITH f AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS f(key text, cause text, severity text, summary text,
         "lostKwhPerDay" numeric, "lostRialsPerDay" bigint, "rialPerKwh" int, "affectedInstallations" int, detail jsonb)
     ), old AS (
       SELECT a.id, a.cause FROM alerts a JOIN f ON f.key = a.key WHERE a.state IN ('OPEN', 'ACKNOWLEDGED') FOR UPDATE
     )
     UPDATE alerts a SET cause = f.cause, severity = f.severity::alert_severity, summary = f.summary,
            lost_kwh_per_day = f."lostKwhPerDay", lost_rials_per_day = f."lostRialsPerDay", rial_per_kwh = f."rialPerKwh",
            affected_installations = f."affectedInstallations", detail = f.detail, last_seen_at = ${ts('$2')}, updated_at = now()
       FROM f, old WHERE a.id = old.id AND a.key = f.key
     RETURNING a.id, a.key, old.cause AS "oldCause", a.cause`,
    [payload, nowMs],
  );
  await addEvents(
    db,
    updated
      .filter((u) => u.oldCause !== u.cause)
      .map((u) => ({ alertId: BigInt(u.id), kind: 'relabelled', note: `${u.oldCause} → ${u.cause}` })),
    actor,
    nowMs,
  );
  const seen = new Set(updated.map((u) => u.key));
  const fresh = findings.filter((f) => !seen.has(f.key));
  if (fresh.length === 0) return { opened: 0, updated: updated.length };
  const remindAt = firstReminderAt(nowMs, reminders)?.getTime() ?? null;
  const { rows: opened } = await db.query<{ id: string; severity: AlertSeverity }>(
    `INSERT INTO alerts (key, rule, cause, severity, installation_id, inverter_id, province_id, area, affected_installations,
                         summary, lost_kwh_per_day, lost_rials_per_day, rial_per_kwh, detail, opened_at, last_seen_at,
                         next_reminder_at, updated_at)
     SELECT f.key, f.rule::alert_rule, f.cause, f.severity::alert_severity, f."installationId", f."inverterId", f."provinceId",
            f.area, f."affectedInstallations", f.summary, f."lostKwhPerDay", f."lostRialsPerDay", f."rialPerKwh", f.detail,
            ${ts('$2')}, ${ts('$2')}, CASE WHEN $3::float8 IS NULL THEN NULL ELSE ${ts('$3')} END, now()
       FROM jsonb_to_recordset($1::jsonb) AS f(key text, rule text, cause text, severity text, "installationId" int,
         "inverterId" int, "provinceId" int, area text, "affectedInstallations" int, summary text, "lostKwhPerDay" numeric,
         "lostRialsPerDay" bigint, "rialPerKwh" int, detail jsonb)
     ON CONFLICT DO NOTHING
     RETURNING id, severity::text AS severity`,
    [jsonText(fresh), nowMs, remindAt],
  );
  const ids = opened.map((o) => ({ alertId: BigInt(o.id), severity: o.severity }));
  await addEvents(
    db,
    ids.map((o) => ({ alertId: o.alertId, kind: 'opened' })),
    actor,
    nowMs,
  );
  await queueNotifications(
    db,
    ids.map((o) => ({ ...o, kind: 'OPENED' as const, sequence: 0 })),
    notify,
    nowMs,
  );
  return { opened: opened.length, updated: updated.length };
}

/** Closes alerts whose cause went away (CLEARED), with their final label. */
export async function clearAlerts(db: Db, clearances: Clearance[], nowMs: number, notify: Notify, actor = EVALUATOR) {
  if (clearances.length === 0) return 0;
  const { rows } = await db.query<{ id: string; severity: AlertSeverity; oldCause: string; cause: string }>(
    `WITH c AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS c(id bigint, cause text, detail jsonb)),
          old AS (SELECT a.id, a.cause FROM alerts a JOIN c ON c.id = a.id WHERE a.state IN ('OPEN', 'ACKNOWLEDGED') FOR UPDATE)
     UPDATE alerts a SET state = 'CLEARED', cause = c.cause, detail = c.detail, closed_at = ${ts('$2')}, closed_by = $3,
            next_reminder_at = NULL, updated_at = now()
       FROM c, old WHERE a.id = c.id AND old.id = a.id
     RETURNING a.id, a.severity::text AS severity, old.cause AS "oldCause", a.cause`,
    [jsonText(clearances.map((c) => ({ id: c.id.toString(), cause: c.cause, detail: c.detail }))), nowMs, actor],
  );
  await addEvents(
    db,
    rows.flatMap((r) => [
      ...(r.oldCause !== r.cause
        ? [{ alertId: BigInt(r.id), kind: 'relabelled', note: `${r.oldCause} → ${r.cause}` }]
        : []),
      { alertId: BigInt(r.id), kind: 'cleared' },
    ]),
    actor,
    nowMs,
  );
  if (notify.notifyOnClose)
    await queueNotifications(
      db,
      rows.map((r) => ({ alertId: BigInt(r.id), severity: r.severity, kind: 'CLOSED' as const, sequence: 0 })),
      notify,
      nowMs,
    );
  return rows.length;
}

/** Sends the reminders that are due: unacknowledged, not muted, fewer than the maximum so far. */
export async function remind(db: Db, nowMs: number, policy: ReminderPolicy, notify: Notify) {
  const { rows } = await db.query<{
    id: string;
    state: string;
    severity: AlertSeverity;
    mutedUntil: number | null;
    remindersSent: number;
    nextReminderAt: number | null;
  }>(
    `SELECT id, state::text AS state, severity::text AS severity, reminders_sent AS "remindersSent",
            extract(epoch FROM muted_until) * 1000 AS "mutedUntil", extract(epoch FROM next_reminder_at) * 1000 AS "nextReminderAt"
       FROM alerts WHERE state = 'OPEN' AND next_reminder_at <= ${ts('$1')} FOR UPDATE`,
    [nowMs],
  );
  const toDate = (ms: number | null) => (ms === null ? null : new Date(Number(ms)));
  const due = dueReminders(
    rows.map((r) => ({
      ...r,
      id: BigInt(r.id),
      mutedUntil: toDate(r.mutedUntil),
      nextReminderAt: toDate(r.nextReminderAt),
    })),
    nowMs,
    policy,
  );
  if (due.length === 0) return 0;
  await db.query(
    `UPDATE alerts a SET reminders_sent = d.sequence, next_reminder_at = CASE WHEN d.next IS NULL THEN NULL ELSE ` +
      `(to_timestamp(d.next / 1000) AT TIME ZONE 'UTC') END, updated_at = now()
       FROM jsonb_to_recordset($1::jsonb) AS d(id bigint, sequence int, next float8) WHERE a.id = d.id`,
    [
      jsonText(
        due.map((d) => ({ id: d.id.toString(), sequence: d.sequence, next: d.nextReminderAt?.getTime() ?? null })),
      ),
    ],
  );
  const severity = new Map(rows.map((r) => [r.id, r.severity]));
  await addEvents(
    db,
    due.map((d) => ({ alertId: d.id, kind: 'reminded', note: `reminder ${d.sequence}` })),
    EVALUATOR,
    nowMs,
  );
  await queueNotifications(
    db,
    due.map((d) => ({
      alertId: d.id,
      severity: severity.get(d.id.toString())!,
      kind: 'REMINDER' as const,
      sequence: d.sequence,
    })),
    notify,
    nowMs,
  );
  return due.length;
}
