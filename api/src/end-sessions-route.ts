// "Sign out on every phone" done by the office for someone who calls (a lost phone that kept them
// signed in, docs/decisions/006): one route per kind of person who signs in to the portal, ending
// every session they have (phones, browsers, API tokens) and keeping the PIN; audited in the same
// transaction.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Prisma } from '../../prisma/generated/client/client';
import { notFound } from './errors';
import { IdParam } from './schemas';

const COLLECTION = { beneficiary: 'beneficiaries', representative: 'representatives' } as const;

/** DELETE /beneficiaries/{id}/sessions or /representatives/{id}/sessions: `exists` looks the person up in the route's transaction. */
export function endSessionsRoute(
  app: FastifyInstance,
  entity: 'beneficiary' | 'representative',
  exists: (tx: Prisma.TransactionClient, id: number) => Promise<unknown>,
) {
  app.withTypeProvider<TypeBoxTypeProvider>().delete(
    `/${COLLECTION[entity]}/:id/sessions`,
    {
      onRequest: app.staffOnly('OPERATOR'),
      schema: {
        tags: ['beneficiaries'],
        summary: `End every session of the ${entity} (all phones, browsers and tokens), keeping the PIN`,
        description:
          'For a person who asks the office to sign them out everywhere, e.g. a lost phone that kept them signed in ' +
          '(docs/decisions/006). The next page on any of their devices asks for national code and PIN.',
        params: IdParam,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      await app.prisma.$transaction(async (tx) => {
        if (!(await exists(tx, id))) throw notFound(entity);
        await app.endSessions(entity === 'beneficiary' ? { beneficiaryId: id } : { representativeId: id }, tx);
        await app.audit(request, { verb: 'end_sessions', entity, entityId: id }, tx);
      });
      return reply.code(204).send(null);
    },
  );
}
