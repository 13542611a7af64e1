// People's side of an alert (the API's /alerts routes call these): the list ranked by income at
// risk, one alert with its timeline and notifications, and what a person does to it: acknowledge,
// assign, comment, mute reminders, resolve. The evaluator's transitions are in store.ts; both lock
// the alert's row, so a person's action and an evaluation never interleave. Every action is on the
// alert's timeline and in the audit log.
import { type Actor, writeAuditWithPrisma } from '../../lib/audit';
import type { Prisma, PrismaClient } from '../../prisma/generated/client/client';
import { ACTIVE_STATES, type AlertRule, type AlertState } from './core/types';

const include = {
  installation: { select: { code: true } },
  inverter: { select: { serial: true } },
  province: { select: { code: true } },
} as const;
type Row = Prisma.AlertGetPayload<{ include: typeof include }>;
type NotificationRow = Prisma.AlertNotificationGetPayload<object>;

/** An alert as people see it: codes instead of ids, Rials as text, instants as ISO strings. */
export interface AlertView {
  id: number;
  rule: AlertRule;
  cause: string;
  severity: Row['severity'];
  state: AlertState;
  summary: string;
  installation: string | null;
  inverter: string | null;
  province: string;
  area: string | null;
  affectedInstallations: number;
  lostKwhPerDay: number;
  lostRialsPerDay: string;
  rialPerKwh: number | null;
  openedAt: string;
  lastSeenAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  assignedTo: string | null;
  mutedUntil: string | null;
  remindersSent: number;
  nextReminderAt: string | null;
  closedAt: string | null;
  closedBy: string | null;
}
export interface NotificationView {
  id: number;
  alertId: number;
  kind: string;
  sequence: number;
  channel: NotificationRow['channel'];
  recipient: string;
  status: NotificationRow['status'];
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  sentAt: string | null;
}
export interface AlertWithTimeline extends AlertView {
  detail: unknown;
  events: { at: string; actor: string; kind: string; note: string | null }[];
  notifications: NotificationView[];
}

const iso = (d: Date | null) => d?.toISOString() ?? null;
const alertView = (a: Row): AlertView => ({
  id: Number(a.id),
  rule: a.rule,
  cause: a.cause,
  severity: a.severity,
  state: a.state,
  summary: a.summary,
  installation: a.installation?.code ?? null,
  inverter: a.inverter?.serial ?? null,
  province: a.province.code,
  area: a.area,
  affectedInstallations: a.affectedInstallations,
  lostKwhPerDay: Number(a.lostKwhPerDay),
  lostRialsPerDay: a.lostRialsPerDay.toString(),
  rialPerKwh: a.rialPerKwh,
  openedAt: a.openedAt.toISOString(),
  lastSeenAt: a.lastSeenAt.toISOString(),
  acknowledgedAt: iso(a.acknowledgedAt),
  acknowledgedBy: a.acknowledgedBy,
  assignedTo: a.assignedTo,
  mutedUntil: iso(a.mutedUntil),
  remindersSent: a.remindersSent,
  nextReminderAt: iso(a.nextReminderAt),
  closedAt: iso(a.closedAt),
  closedBy: a.closedBy,
});
const notificationView = (n: NotificationRow): NotificationView => ({
  id: Number(n.id),
  alertId: Number(n.alertId),
  kind: n.kind,
  sequence: n.sequence,
  channel: n.channel,
  recipient: n.recipient,
  status: n.status,
  attempts: n.attempts,
  nextAttemptAt: n.nextAttemptAt.toISOString(),
  lastError: n.lastError,
  sentAt: iso(n.sentAt),
});

type Db = Pick<PrismaClient, 'alert' | 'alertNotification' | '$transaction'>;
export interface Window {
  skip: number;
  take: number;
}
export interface AlertFilter {
  /** `active` (the default): open or acknowledged, ranked by income at risk; `closed`: cleared or resolved. */
  state?: 'active' | 'closed' | 'all' | AlertState;
  rule?: AlertRule;
  /** Province code. */
  province?: string;
  /** Installation code. */
  installation?: string;
  assignedTo?: string;
}

function whereOf(filter: AlertFilter): Prisma.AlertWhereInput {
  const { state = 'active', rule, province, installation, assignedTo } = filter;
  const states: AlertState[] =
    state === 'active'
      ? [...ACTIVE_STATES]
      : state === 'closed'
        ? ['CLEARED', 'RESOLVED']
        : state === 'all'
          ? ['OPEN', 'ACKNOWLEDGED', 'CLEARED', 'RESOLVED']
          : [state];
  return {
    state: { in: states },
    ...(rule ? { rule } : {}),
    ...(province ? { province: { code: province } } : {}),
    ...(installation ? { installation: { code: installation } } : {}),
    ...(assignedTo ? { assignedTo } : {}),
  };
}

/** Alerts matching the filter: active ones ranked by income at risk (then the oldest first), others newest first. */
export async function findAlerts(db: Db, filter: AlertFilter, window: Window): Promise<AlertView[]> {
  const orderBy: Prisma.AlertOrderByWithRelationInput[] =
    (filter.state ?? 'active') === 'active'
      ? [{ lostRialsPerDay: 'desc' }, { openedAt: 'asc' }, { id: 'asc' }]
      : [{ openedAt: 'desc' }, { id: 'desc' }];
  const rows = await db.alert.findMany({ where: whereOf(filter), include, orderBy, ...window });
  return rows.map(alertView);
}
export const countAlerts = (db: Db, filter: AlertFilter): Promise<number> => db.alert.count({ where: whereOf(filter) });

/** Notifications in one delivery status, newest first. */
export async function findNotifications(
  db: Db,
  status: NotificationRow['status'],
  window: Window,
): Promise<NotificationView[]> {
  const rows = await db.alertNotification.findMany({ where: { status }, orderBy: { id: 'desc' }, ...window });
  return rows.map(notificationView);
}
export const countNotifications = (db: Db, status: NotificationRow['status']): Promise<number> =>
  db.alertNotification.count({ where: { status } });

/** One alert with its evidence, timeline and notifications; null when there is none with that id. */
export async function alertWithTimeline(db: Db, id: bigint): Promise<AlertWithTimeline | null> {
  const row = await db.alert.findUnique({
    where: { id },
    include: { ...include, events: { orderBy: { id: 'asc' } }, notifications: { orderBy: { id: 'asc' } } },
  });
  if (!row) return null;
  return {
    ...alertView(row),
    detail: row.detail,
    events: row.events.map((e) => ({ at: e.at.toISOString(), actor: e.actor, kind: e.kind, note: e.note })),
    notifications: row.notifications.map(notificationView),
  };
}

/** What a person does to an alert. Assigning names a staff user the caller has checked exists. */
export type AlertAction =
  | { kind: 'acknowledge'; note?: string }
  | { kind: 'assign'; assignee: string; note?: string }
  | { kind: 'comment'; text: string }
  | { kind: 'mute'; minutes: number; note?: string }
  | { kind: 'resolve'; note: string };

/** An action the alert's state does not allow (409), or an alert that does not exist (404). */
export class AlertActionRefused extends Error {
  constructor(
    readonly status: 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

type Change = { data: Prisma.AlertUpdateInput; kind: string; note?: string | null };

function changeOf(alert: Row, action: AlertAction, by: string, now: Date): Change {
  const mustBeActive = () => {
    if (!(ACTIVE_STATES as readonly string[]).includes(alert.state))
      throw new AlertActionRefused(
        409,
        `the alert is ${alert.state.toLowerCase()}: only an open or acknowledged alert can change`,
      );
  };
  switch (action.kind) {
    case 'acknowledge':
      mustBeActive();
      if (alert.state === 'ACKNOWLEDGED')
        throw new AlertActionRefused(409, `already acknowledged by ${alert.acknowledgedBy}`);
      return {
        data: { state: 'ACKNOWLEDGED', acknowledgedAt: now, acknowledgedBy: by, nextReminderAt: null },
        kind: 'acknowledged',
        note: action.note,
      };
    case 'assign':
      mustBeActive();
      return {
        data: { assignedTo: action.assignee },
        kind: 'assigned',
        note: `→ ${action.assignee}${action.note ? `: ${action.note}` : ''}`,
      };
    case 'comment':
      return { data: {}, kind: 'commented', note: action.text };
    case 'mute': {
      mustBeActive();
      const until = action.minutes === 0 ? null : new Date(now.getTime() + action.minutes * 60_000);
      return {
        data: { mutedUntil: until },
        kind: until ? 'muted' : 'unmuted',
        note: until ? `until ${until.toISOString()}${action.note ? `: ${action.note}` : ''}` : action.note,
      };
    }
    case 'resolve':
      mustBeActive();
      return {
        data: { state: 'RESOLVED', closedAt: now, closedBy: by, nextReminderAt: null },
        kind: 'resolved',
        note: action.note,
      };
  }
}

/**
 * Takes a person's action on an alert: checks its state, updates it, writes its timeline and the
 * audit log (`alert.acknowledged`, ...), in one transaction. `by.name` is how the alert names them
 * (`acknowledgedBy`, the timeline), `by.actor` how the audit log does. Returns the alert after it.
 */
export async function actOnAlert(
  db: Pick<PrismaClient, 'alert' | '$transaction'>,
  id: bigint,
  action: AlertAction,
  by: { name: string; actor: Actor },
  now = new Date(),
): Promise<AlertView> {
  // The installation's, inverter's and province's codes, read before the transaction: Prisma reads an
  // include's relations in parallel, which on a transaction's one connection queues a query behind
  // another (pg's "client is already executing a query"). They do not change with the alert.
  const codes = await db.alert.findUnique({ where: { id }, select: include });
  if (!codes) throw new AlertActionRefused(404, 'alert not found');
  return db.$transaction(async (tx) => {
    // Locked so a concurrent evaluation or action cannot interleave with this one.
    await tx.$queryRaw`SELECT id FROM alerts WHERE id = ${id} FOR UPDATE`;
    const row = await tx.alert.findUnique({ where: { id } });
    if (!row) throw new AlertActionRefused(404, 'alert not found');
    const alert: Row = { ...row, ...codes };
    const change = changeOf(alert, action, by.name, now);
    const updated: Row = { ...(await tx.alert.update({ where: { id }, data: change.data })), ...codes };
    await tx.alertEvent.create({
      data: { alertId: id, at: now, actor: by.name, kind: change.kind, note: change.note ?? null },
    });
    const after = alertView(updated);
    await writeAuditWithPrisma(tx, {
      actor: by.actor,
      action: `alert.${change.kind}`,
      entity: 'alert',
      entityId: id.toString(),
      before: alertView(alert),
      after,
    });
    return after;
  });
}
