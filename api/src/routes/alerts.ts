// Technicians' alerts (computed by the alerts component's scheduled job): list them ranked by
// income at risk, read one with its timeline and notifications, and act on it — acknowledge,
// assign, comment, mute reminders, resolve. Every action is on the alert's timeline and audited.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import type { Prisma } from '../../../prisma/generated/client/client';
import { actorOf } from '../plugins/auth';
import { errorResponses, HttpError, notFound } from '../errors';
import { IdParam, oneOf, PageQuery, pageOf, paged } from '../schemas';

const Rials = Type.String({ pattern: '^\\d+$', description: 'whole Rials' });
const States = ['OPEN', 'ACKNOWLEDGED', 'CLEARED', 'RESOLVED'] as const;
const Rules = ['OFFLINE', 'AREA_OUTAGE', 'FAULT', 'UNDERPERFORMING', 'METER_SHORTFALL'] as const;
const Time = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

const Alert = Type.Object({
  id: Type.Integer(),
  rule: oneOf(Rules),
  cause: Type.String({ description: 'outage, communications, grid, telecom, ground_fault, soiling, equipment, ...' }),
  severity: oneOf(['MAJOR', 'MINOR', 'WARNING']),
  state: oneOf(States),
  summary: Type.String(),
  installation: Type.Union([Type.String(), Type.Null()], { description: 'installation code; null for an area' }),
  inverter: Type.Union([Type.String(), Type.Null()], { description: 'inverter serial, when about one inverter' }),
  province: Type.String(),
  area: Type.Union([Type.String(), Type.Null()]),
  affectedInstallations: Type.Integer(),
  lostKwhPerDay: Type.Number({ description: 'estimated energy lost per day, kWh' }),
  lostRialsPerDay: Rials,
  rialPerKwh: Type.Union([Type.Integer(), Type.Null()]),
  openedAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time' }),
  acknowledgedAt: Time,
  acknowledgedBy: Type.Union([Type.String(), Type.Null()]),
  assignedTo: Type.Union([Type.String(), Type.Null()]),
  mutedUntil: Time,
  remindersSent: Type.Integer(),
  nextReminderAt: Time,
  closedAt: Time,
  closedBy: Type.Union([Type.String(), Type.Null()]),
});
const Event = Type.Object({
  at: Type.String({ format: 'date-time' }),
  actor: Type.String(),
  kind: Type.String(),
  note: Type.Union([Type.String(), Type.Null()]),
});
const Notification = Type.Object({
  id: Type.Integer(),
  alertId: Type.Integer(),
  kind: Type.String(),
  sequence: Type.Integer(),
  channel: oneOf(['EMAIL', 'WEBHOOK']),
  recipient: Type.String(),
  status: oneOf(['PENDING', 'SENT', 'FAILED']),
  attempts: Type.Integer(),
  nextAttemptAt: Type.String({ format: 'date-time' }),
  lastError: Type.Union([Type.String(), Type.Null()]),
  sentAt: Time,
});
const AlertDetail = Type.Composite([
  Alert,
  Type.Object({ detail: Type.Unknown(), events: Type.Array(Event), notifications: Type.Array(Notification) }),
]);

const include = {
  installation: { select: { code: true } },
  inverter: { select: { serial: true } },
  province: { select: { code: true } },
} as const;
type Row = Prisma.AlertGetPayload<{ include: typeof include }>;
const iso = (d: Date | null) => d?.toISOString() ?? null;
const toAlert = (a: Row): Static<typeof Alert> => ({
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
const toNotification = (n: Prisma.AlertNotificationGetPayload<object>): Static<typeof Notification> => ({
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

const Note = Type.String({ minLength: 1, maxLength: 2000 });
const ACTIVE = ['OPEN', 'ACKNOWLEDGED'] as const;

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const staff = app.staffOnly('TECHNICIAN', 'OPERATOR');

  app.get(
    '/alerts',
    {
      onRequest: staff,
      schema: {
        tags: ['alerts'],
        summary: 'Alerts; active ones first ranked by income at risk (Rials lost per day)',
        querystring: Type.Composite([
          PageQuery,
          Type.Object({
            state: Type.Optional(oneOf(['active', 'closed', 'all', ...States], 'default: active')),
            rule: Type.Optional(oneOf(Rules)),
            province: Type.Optional(Type.String({ maxLength: 40 })),
            installation: Type.Optional(Type.String({ maxLength: 40, description: 'installation code' })),
            assignedTo: Type.Optional(Type.String({ maxLength: 60 })),
          }),
        ]),
        response: { 200: pageOf(Alert) },
      },
    },
    async (request) => {
      const { state = 'active', rule, province, installation, assignedTo } = request.query;
      const states =
        state === 'active'
          ? [...ACTIVE]
          : state === 'closed'
            ? ['CLEARED' as const, 'RESOLVED' as const]
            : state === 'all'
              ? [...States]
              : [state];
      const where = {
        state: { in: states },
        ...(rule ? { rule } : {}),
        ...(province ? { province: { code: province } } : {}),
        ...(installation ? { installation: { code: installation } } : {}),
        ...(assignedTo ? { assignedTo } : {}),
      };
      const orderBy =
        state === 'active'
          ? [{ lostRialsPerDay: 'desc' as const }, { openedAt: 'asc' as const }, { id: 'asc' as const }]
          : [{ openedAt: 'desc' as const }, { id: 'desc' as const }];
      return paged(
        request.query,
        (window) => app.prisma.alert.findMany({ where, include, orderBy, ...window }),
        () => app.prisma.alert.count({ where }),
        toAlert,
      );
    },
  );

  app.get(
    '/alerts/notifications',
    {
      onRequest: staff,
      schema: {
        tags: ['alerts'],
        summary: 'Alert notifications and their delivery (failed ones first by default)',
        querystring: Type.Composite([
          PageQuery,
          Type.Object({ status: Type.Optional(oneOf(['PENDING', 'SENT', 'FAILED'], 'default: FAILED')) }),
        ]),
        response: { 200: pageOf(Notification) },
      },
    },
    async (request) => {
      const where = { status: request.query.status ?? ('FAILED' as const) };
      return paged(
        request.query,
        (window) => app.prisma.alertNotification.findMany({ where, orderBy: { id: 'desc' }, ...window }),
        () => app.prisma.alertNotification.count({ where }),
        toNotification,
      );
    },
  );

  app.get(
    '/alerts/:id',
    {
      onRequest: staff,
      schema: {
        tags: ['alerts'],
        summary: 'One alert with its evidence, timeline and notifications',
        params: IdParam,
        response: { 200: AlertDetail },
      },
    },
    async (request) => {
      const row = await app.prisma.alert.findUnique({
        where: { id: BigInt(request.params.id) },
        include: { ...include, events: { orderBy: { id: 'asc' } }, notifications: { orderBy: { id: 'asc' } } },
      });
      if (!row) throw notFound('alert');
      return {
        ...toAlert(row),
        detail: row.detail,
        events: row.events.map((e) => ({ at: e.at.toISOString(), actor: e.actor, kind: e.kind, note: e.note })),
        notifications: row.notifications.map(toNotification),
      };
    },
  );

  /** One action on an alert: checks its state, updates it, writes its timeline and the audit log. */
  const action = <B extends object>(
    path: string,
    summary: string,
    body: ReturnType<typeof Type.Object>,
    apply: (
      alert: Row,
      body: B,
      actor: string,
      now: Date,
    ) => Promise<{ data: Prisma.AlertUpdateInput; kind: string; note?: string | null }>,
  ) =>
    app.post(
      `/alerts/:id/${path}`,
      {
        onRequest: staff,
        schema: { tags: ['alerts'], summary, params: IdParam, body, response: { 200: Alert, ...errorResponses(409) } },
      },
      async (request) => {
        const id = BigInt(request.params.id);
        const actor = request.principal?.kind === 'staff' ? request.principal.username : actorOf(request.principal);
        return app.prisma.$transaction(async (tx) => {
          // Locked so a concurrent evaluation or action cannot interleave with this one.
          await tx.$queryRaw`SELECT id FROM alerts WHERE id = ${id} FOR UPDATE`;
          const alert = await tx.alert.findUnique({ where: { id }, include });
          if (!alert) throw notFound('alert');
          const now = new Date();
          const change = await apply(alert, request.body as B, actor, now);
          const updated = await tx.alert.update({ where: { id }, data: change.data, include });
          await tx.alertEvent.create({
            data: { alertId: id, at: now, actor, kind: change.kind, note: change.note ?? null },
          });
          await app.audit(
            request,
            {
              verb: change.kind,
              entity: 'alert',
              entityId: id.toString(),
              before: toAlert(alert),
              after: toAlert(updated),
            },
            tx,
          );
          return toAlert(updated);
        });
      },
    );
  const mustBeActive = (alert: Row) => {
    if (!(ACTIVE as readonly string[]).includes(alert.state))
      throw new HttpError(
        409,
        `the alert is ${alert.state.toLowerCase()}: only an open or acknowledged alert can change`,
      );
  };

  action<{ note?: string }>(
    'acknowledge',
    'Acknowledge: someone is on it (reminders stop)',
    Type.Object({ note: Type.Optional(Note) }, { additionalProperties: false }),
    async (alert, body, actor, now) => {
      mustBeActive(alert);
      if (alert.state === 'ACKNOWLEDGED') throw new HttpError(409, `already acknowledged by ${alert.acknowledgedBy}`);
      return {
        data: { state: 'ACKNOWLEDGED', acknowledgedAt: now, acknowledgedBy: actor, nextReminderAt: null },
        kind: 'acknowledged',
        note: body.note,
      };
    },
  );
  action<{ assignee: string; note?: string }>(
    'assign',
    'Assign to a staff member (by username)',
    Type.Object(
      { assignee: Type.String({ minLength: 1, maxLength: 60 }), note: Type.Optional(Note) },
      { additionalProperties: false },
    ),
    async (alert, body) => {
      mustBeActive(alert);
      if (!(await app.prisma.user.findUnique({ where: { username: body.assignee } })))
        throw new HttpError(400, `assignee: no staff user '${body.assignee}'`, 'assignee');
      return {
        data: { assignedTo: body.assignee },
        kind: 'assigned',
        note: `→ ${body.assignee}${body.note ? `: ${body.note}` : ''}`,
      };
    },
  );
  action<{ text: string }>(
    'comments',
    'Comment on an alert (any state)',
    Type.Object({ text: Note }, { additionalProperties: false }),
    async (_alert, body) => ({ data: {}, kind: 'commented', note: body.text }),
  );
  action<{ minutes: number; note?: string }>(
    'mute',
    'Mute reminders for a while (0 unmutes)',
    Type.Object(
      { minutes: Type.Integer({ minimum: 0, maximum: 43_200 }), note: Type.Optional(Note) },
      { additionalProperties: false },
    ),
    async (alert, body, _actor, now) => {
      mustBeActive(alert);
      const until = body.minutes === 0 ? null : new Date(now.getTime() + body.minutes * 60_000);
      return {
        data: { mutedUntil: until },
        kind: until ? 'muted' : 'unmuted',
        note: until ? `until ${until.toISOString()}${body.note ? `: ${body.note}` : ''}` : body.note,
      };
    },
  );
  action<{ note: string }>(
    'resolve',
    'Resolve: closed by a person (if the cause persists, the evaluator opens a new alert)',
    Type.Object({ note: Note }, { additionalProperties: false }),
    async (alert, body, actor, now) => {
      mustBeActive(alert);
      return {
        data: { state: 'RESOLVED', closedAt: now, closedBy: actor, nextReminderAt: null },
        kind: 'resolved',
        note: body.note,
      };
    },
  );
};

export default routes;
