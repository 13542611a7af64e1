// Technicians' alerts (computed by the alerts component's scheduled job): list them ranked by
// income at risk, read one with its timeline and notifications, and act on it — acknowledge,
// assign, comment, mute reminders, resolve. Every action is on the alert's timeline and audited.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  ALERT_RULES,
  ALERT_SEVERITIES,
  ALERT_STATES,
  type AlertAction,
  AlertActionRefused,
  actOnAlert,
  alertWithTimeline,
  countAlerts,
  countNotifications,
  findAlerts,
  findNotifications,
} from '../../../alerts';
import { actorOf } from '../plugins/auth';
import { errorResponses, HttpError, notFound } from '../errors';
import { IdParam, oneOf, PageQuery, pageOf, paged } from '../schemas';

const Rials = Type.String({ pattern: '^\\d+$', description: 'whole Rials' });
const Time = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

const Alert = Type.Object({
  id: Type.Integer(),
  rule: oneOf(ALERT_RULES),
  cause: Type.String({ description: 'outage, communications, grid, telecom, ground_fault, soiling, equipment, ...' }),
  severity: oneOf(ALERT_SEVERITIES),
  state: oneOf(ALERT_STATES),
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

const Note = Type.String({ minLength: 1, maxLength: 2000 });

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
            state: Type.Optional(oneOf(['active', 'closed', 'all', ...ALERT_STATES], 'default: active')),
            rule: Type.Optional(oneOf(ALERT_RULES)),
            province: Type.Optional(Type.String({ maxLength: 40 })),
            installation: Type.Optional(Type.String({ maxLength: 40, description: 'installation code' })),
            assignedTo: Type.Optional(Type.String({ maxLength: 60 })),
          }),
        ]),
        response: { 200: pageOf(Alert) },
      },
    },
    async (request) =>
      paged(
        request.query,
        (window) => findAlerts(app.prisma, request.query, window),
        () => countAlerts(app.prisma, request.query),
        (alert) => alert,
      ),
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
      const status = request.query.status ?? 'FAILED';
      return paged(
        request.query,
        (window) => findNotifications(app.prisma, status, window),
        () => countNotifications(app.prisma, status),
        (notification) => notification,
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
      const alert = await alertWithTimeline(app.prisma, BigInt(request.params.id));
      if (!alert) throw notFound('alert');
      return alert;
    },
  );

  /** One action on an alert, taken by the alerts component (state, timeline and audit in one transaction). */
  const action = <B extends object>(
    path: string,
    summary: string,
    body: ReturnType<typeof Type.Object>,
    actionOf: (body: B) => Promise<AlertAction>,
  ) =>
    app.post(
      `/alerts/:id/${path}`,
      {
        onRequest: staff,
        schema: { tags: ['alerts'], summary, params: IdParam, body, response: { 200: Alert, ...errorResponses(409) } },
      },
      async (request) => {
        const name = request.principal?.kind === 'staff' ? request.principal.username : actorOf(request.principal);
        try {
          return await actOnAlert(app.prisma, BigInt(request.params.id), await actionOf(request.body as B), {
            name,
            actor: actorOf(request.principal),
          });
        } catch (error) {
          if (error instanceof AlertActionRefused)
            throw error.status === 404 ? notFound('alert') : new HttpError(error.status, error.message);
          throw error;
        }
      },
    );

  action<{ note?: string }>(
    'acknowledge',
    'Acknowledge: someone is on it (reminders stop)',
    Type.Object({ note: Type.Optional(Note) }, { additionalProperties: false }),
    async (body) => ({ kind: 'acknowledge', note: body.note }),
  );
  action<{ assignee: string; note?: string }>(
    'assign',
    'Assign to a staff member (by username)',
    Type.Object(
      { assignee: Type.String({ minLength: 1, maxLength: 60 }), note: Type.Optional(Note) },
      { additionalProperties: false },
    ),
    async (body) => {
      if (!(await app.prisma.user.findUnique({ where: { username: body.assignee } })))
        throw new HttpError(400, `assignee: no staff user '${body.assignee}'`, 'assignee');
      return { kind: 'assign', assignee: body.assignee, note: body.note };
    },
  );
  action<{ text: string }>(
    'comments',
    'Comment on an alert (any state)',
    Type.Object({ text: Note }, { additionalProperties: false }),
    async (body) => ({ kind: 'comment', text: body.text }),
  );
  action<{ minutes: number; note?: string }>(
    'mute',
    'Mute reminders for a while (0 unmutes)',
    Type.Object(
      { minutes: Type.Integer({ minimum: 0, maximum: 43_200 }), note: Type.Optional(Note) },
      { additionalProperties: false },
    ),
    async (body) => ({ kind: 'mute', minutes: body.minutes, note: body.note }),
  );
  action<{ note: string }>(
    'resolve',
    'Resolve: closed by a person (if the cause persists, the evaluator opens a new alert)',
    Type.Object({ note: Note }, { additionalProperties: false }),
    async (body) => ({ kind: 'resolve', note: body.note }),
  );
};

export default routes;
