// Correcting a paid settlement (ADMIN, audited): the figures in force are reversed and new ones
// entered; a settlement whose payment was recorded never changes otherwise.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { correctSettlement } from '../../../../billing';
import { jsonCopy } from '../../../../lib/json';
import { errorResponses, HttpError, notFound } from '../../errors';
import { actorOf } from '../../plugins/auth';
import { IdParam } from '../../schemas';
import { Correction } from './common';

const CorrectionRequest = Type.Object({
  meteredWh: Type.String({ pattern: '^\\d{1,18}$', description: 'the corrected meter reading, Wh' }),
  amountRials: Type.String({ pattern: '^\\d{1,18}$', description: 'the corrected amount, whole Rials' }),
  reference: Type.Optional(Type.String({ minLength: 1, maxLength: 60 })),
  correctedOn: Type.String({ format: 'date', description: 'the day the difference was paid or taken back (Tehran)' }),
  reason: Type.String({ minLength: 5, maxLength: 300 }),
});

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/settlements/:id/corrections',
    {
      onRequest: app.staffOnly('ADMIN'),
      schema: {
        tags: ['settlements'],
        summary: 'Correct a paid settlement: reverse the figures in force and enter new ones (audited)',
        description:
          'A settlement whose payment was recorded never changes (the import and the database refuse it). A ' +
          'correction reverses the figures in force and enters new ones; both show in the cash position.',
        params: IdParam,
        body: CorrectionRequest,
        response: { 201: Correction, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const outcome = await correctSettlement(app.sql, {
        settlementId: request.params.id,
        meteredWh: BigInt(request.body.meteredWh),
        amountRials: BigInt(request.body.amountRials),
        reference: request.body.reference,
        correctedOn: request.body.correctedOn,
        reason: request.body.reason,
        actor: actorOf(request.principal),
      });
      if (!outcome.ok)
        throw outcome.problem === 'not_found' ? notFound('settlement') : new HttpError(409, outcome.reason);
      const c = outcome.correction;
      return reply.code(201).send(
        jsonCopy({
          id: c.id,
          settlementId: c.settlementId,
          installationCode: c.installationCode,
          periodFrom: c.periodFrom,
          periodUntil: c.periodUntil,
          reference: c.reference,
          correctedOn: c.correctedOn,
          reversedRials: c.reversedAmountRials,
          newRials: c.amountRials,
          reason: c.reason,
        }) as never,
      );
    },
  );
};

export default routes;
