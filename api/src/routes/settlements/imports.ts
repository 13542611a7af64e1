// The distribution company's settlement file in (OPERATOR): all rows or none, a dry run writes nothing.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { importSettlements } from '../../../../billing';
import { errorResponses, HttpError } from '../../errors';
import { actorOf } from '../../plugins/auth';
import { csvImportCounts } from '../../schemas';

const ImportReport = Type.Object(csvImportCounts);

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/settlements/imports',
    {
      onRequest: app.staffOnly('OPERATOR'),
      bodyLimit: 64 * 1024 * 1024,
      schema: {
        tags: ['settlements'],
        summary: "Import the distribution company's settlement file (CSV): all rows or none",
        description:
          'Columns: installation_code or export_meter, period_start, period_end (Solar Hijri, both days ' +
          'included), metered_kwh, amount_rials, reference, paid_on (optional). A dry run reports every bad row ' +
          'and writes nothing; the same file again changes nothing.',
        querystring: Type.Object({ dryRun: Type.Boolean({ default: false }) }),
        response: {
          200: ImportReport,
          ...errorResponses(415),
          422: ImportReport,
        },
      },
    },
    async (request, reply) => {
      if (typeof request.body !== 'string') throw new HttpError(415, 'send the CSV as text/csv');
      const report = await importSettlements(app.sql, request.body, {
        dryRun: request.query.dryRun,
        actor: actorOf(request.principal),
      });
      return reply.code(report.errors.length > 0 ? 422 : 200).send(report);
    },
  );
};

export default routes;
