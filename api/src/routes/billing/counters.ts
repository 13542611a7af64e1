// Counters that need a person: the month's installations to look at (implausible, incomplete), a
// decision on an implausible counter, and a replaced inverter or counter recorded from an instant.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { monthAttention, recordReplacement, reviewCounter } from '../../../../billing';
import { errorResponses } from '../../errors';
import { actorOf } from '../../plugins/auth';
import { PageQuery, pageOf } from '../../schemas';
import { billedMonthOrThrow, MonthParam } from './common';

const AttentionRow = Type.Object({
  code: Type.String(),
  province: Type.String(),
  incomplete: Type.Boolean(),
  implausible: Type.Boolean(),
  inverters: Type.Array(
    Type.Object({
      serial: Type.String(),
      wh: Type.Integer({ description: 'billed' }),
      heldWh: Type.Integer({ description: 'read but not billed: more than the inverter could produce' }),
      boundWh: Type.Union([Type.Integer(), Type.Null()], {
        description:
          'the most a review decision bills for this inverter and month (its rating over the month + 10 %): ' +
          'accept bills what was read up to it, a correct figure above it is refused',
      }),
      flags: Type.Array(Type.Record(Type.String(), Type.Unknown()), {
        description: 'what the counter did, naming the readings (times in UTC, values in Wh)',
      }),
      review: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    }),
  ),
  heldLateData: Type.Array(
    Type.Object({
      forMonth: Type.String(),
      wh: Type.Integer(),
      rials: Type.String({ description: 'integer Rials' }),
      reason: Type.String(),
    }),
    {
      description:
        'late changes to a closed month held for review (not paid): decide with PUT /billing/months/{forMonth}/counters/{serial}/review',
    },
  ),
});

const counters: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/billing/months/:month/attention',
    {
      onRequest: app.staffOnly('OPERATOR'),
      schema: {
        tags: ['billing'],
        summary: 'Installations to look at: implausible (held; they block the close) and incomplete',
        description:
          "Implausible first. Each with its inverters' flags: the readings that made it so. Decide on an " +
          'implausible counter with PUT .../counters/{serial}/review.',
        params: MonthParam,
        querystring: PageQuery,
        response: { 200: pageOf(AttentionRow) },
      },
    },
    async (request) => {
      const { month } = request.params;
      await billedMonthOrThrow(app.sql, month);
      const { page, pageSize } = request.query;
      const { rows, total } = await monthAttention(app.sql, month, { limit: pageSize, offset: (page - 1) * pageSize });
      return { items: rows, page, pageSize, total };
    },
  );

  app.put(
    '/billing/months/:month/counters/:serial/review',
    {
      onRequest: app.staffOnly(),
      schema: {
        tags: ['billing'],
        summary: "Decide on an inverter's month whose counter was implausible (ADMIN, audited)",
        description:
          'ACCEPT bills what the counter read up to the capacity bound of the inverter for the month (boundWh in ' +
          'the attention list), EXCLUDE bills nothing, CORRECT bills correctedWh (refused above the bound). ' +
          'Replaces an earlier decision; the next run applies it (a closed month through a late-data adjustment).',
        params: Type.Composite([MonthParam, Type.Object({ serial: Type.String({ maxLength: 64 }) })]),
        body: Type.Object({
          decision: Type.Union([Type.Literal('ACCEPT'), Type.Literal('CORRECT'), Type.Literal('EXCLUDE')]),
          correctedWh: Type.Optional(Type.Integer({ minimum: 0 })),
          reason: Type.String({ minLength: 1, maxLength: 500 }),
        }),
        response: { 200: Type.Unknown() },
      },
    },
    async (request) => {
      const { month, serial } = request.params;
      const { decision, correctedWh, reason } = request.body;
      return reviewCounter(
        app.sql,
        { month, serial, decision, correctedWh: correctedWh ?? null, reason },
        actorOf(request.principal),
      );
    },
  );

  app.post(
    '/billing/inverters/:serial/replacements',
    {
      onRequest: app.staffOnly(),
      schema: {
        tags: ['billing'],
        summary: 'Record a new inverter (or counter) on a serial from an instant (ADMIN, audited)',
        description:
          'Its counter starts a new epoch: the old lifetime total is never counted again. initialWh is the new counter at that instant, if known.',
        params: Type.Object({ serial: Type.String({ maxLength: 64 }) }),
        body: Type.Object({
          replacedAt: Type.String({ format: 'date-time' }),
          initialWh: Type.Optional(Type.Integer({ minimum: 0 })),
          note: Type.String({ minLength: 1, maxLength: 500 }),
        }),
        response: { 201: Type.Unknown(), ...errorResponses(409) },
      },
    },
    async (request, reply) => {
      const { replacedAt, initialWh, note } = request.body;
      const recorded = await recordReplacement(
        app.sql,
        { serial: request.params.serial, replacedAt: new Date(replacedAt), initialWh: initialWh ?? null, note },
        actorOf(request.principal),
      );
      return reply.code(201).send(recorded);
    },
  );
};

export default counters;
