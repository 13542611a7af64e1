// POST /imports/{kind}?dryRun=true with a CSV body (UTF-8; Persian text and digits welcome).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { provisionDevices } from '../../../lib/mqtt/device-accounts';
import { errorResponses, HttpError } from '../errors';
import { IMPORT_KINDS, runImport } from '../../../registry';
import { actorOf } from '../plugins/auth';
import { csvImportCounts, oneOf } from '../schemas';

const Report = Type.Object({
  kind: Type.String(),
  ...csvImportCounts,
  credentials: Type.Array(Type.Object({ serial: Type.String(), password: Type.String() }), {
    description: 'broker accounts of newly imported inverters, shown only now',
  }),
});

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/imports/:kind',
    {
      onRequest: app.staffOnly('OPERATOR'),
      bodyLimit: 64 * 1024 * 1024,
      schema: {
        tags: ['imports'],
        summary: 'Import a CSV: all rows or none; a dry run reports every bad row',
        params: Type.Object({ kind: oneOf(IMPORT_KINDS) }),
        querystring: Type.Object({ dryRun: Type.Boolean({ default: false }) }),
        response: { 200: Report, ...errorResponses(415), 422: Report },
      },
    },
    async (request, reply) => {
      if (typeof request.body !== 'string') throw new HttpError(415, 'send the CSV as text/csv');
      const report = await runImport(app.prisma, request.params.kind, request.body, {
        dryRun: request.query.dryRun,
        actor: actorOf(request.principal),
        provisionDevices: async (serials) => provisionDevices(await app.brokerAdmin(), serials),
      });
      return reply.code(report.errors.length > 0 ? 422 : 200).send(report);
    },
  );
};

export default routes;
