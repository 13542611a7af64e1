// A closed month's payout for ADMINs: the bank batch (created once), its summary, the bank file
// byte for byte as frozen, and recording it paid.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { markPaid, payoutBatch, payoutFile } from '../../../../billing';
import { errorResponses } from '../../errors';
import { actorOf } from '../../plugins/auth';
import { MonthParam, Rials } from './common';

const PayoutSummary = Type.Object({
  month: Type.String(),
  reference: Type.String(),
  status: Type.String(),
  rows: Type.Integer(),
  totalRials: Rials,
  withheld: Type.Object({ beneficiaries: Type.Integer(), rials: Rials }),
  statementsPayableRials: Rials,
  reconciles: Type.Boolean(),
  sha256: Type.String(),
  createdAt: Type.String(),
  paidAt: Type.Union([Type.String(), Type.Null()]),
});

const payouts: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/billing/months/:month/payout',
    {
      onRequest: app.staffOnly(),
      schema: {
        tags: ['billing'],
        summary: "Create a closed month's payout batch",
        description: 'Creates the bank transfer batch of a closed month (once) and returns its summary.',
        params: MonthParam,
        response: { 200: PayoutSummary, ...errorResponses(409) },
      },
    },
    async (request) => {
      return (await payoutBatch(app.sql, request.params.month, actorOf(request.principal), { create: true })).summary;
    },
  );
  app.get(
    '/billing/months/:month/payout',
    {
      onRequest: app.staffOnly(),
      schema: {
        tags: ['billing'],
        summary: "A month's payout batch summary",
        params: MonthParam,
        response: { 200: PayoutSummary, ...errorResponses(409) },
      },
    },
    async (request) => {
      return (await payoutBatch(app.sql, request.params.month, actorOf(request.principal), { create: false })).summary;
    },
  );
  app.get(
    '/billing/months/:month/payout.csv',
    {
      onRequest: app.staffOnly(),
      schema: {
        tags: ['billing'],
        summary: "A month's bank transfer file (CSV)",
        description:
          'The bank file (sheba, amount_rials, name, reference), byte for byte as frozen when the batch was created; 409 if the batch does not reconcile.',
        params: MonthParam,
      },
    },
    async (request, reply) => {
      const { csv, summary } = await payoutFile(app.sql, request.params.month, actorOf(request.principal), {
        create: false,
      });
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${summary.reference}.csv"`)
        .send(csv);
    },
  );
  app.post(
    '/billing/months/:month/payout/paid',
    {
      onRequest: app.staffOnly(),
      schema: {
        tags: ['billing'],
        summary: "Record a month's payout batch as paid",
        params: MonthParam,
        response: {
          200: Type.Object({ month: Type.String(), alreadyPaid: Type.Boolean() }),
        },
      },
    },
    async (request) => {
      return {
        month: request.params.month,
        ...(await markPaid(app.sql, request.params.month, actorOf(request.principal))),
      };
    },
  );
};

export default payouts;
