// The monthly program report of a closed month: PDF (Persian, printed by Chromium), its tables as
// CSV (one table per request) and XLSX, and the page itself. Staff who see money (OPERATOR, ADMIN).
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { parseMonth } from '../../../lib/program/solar-hijri';
import { badField, errorResponses } from '../errors';
import type { ReportConfig } from '../report/config';
import { gatherReport, type ReportDeps } from '../report/data';
import { REPORT_TABLES, reportCsv, reportPdf, reportXlsx } from '../report/exports';
import { startReportMailer } from '../report/mailer';
import { reportPage } from '../report/page';

export interface ReportRoutesOptions {
  report: ReportConfig;
  lateAfterDays: number;
}

const routes: FastifyPluginAsyncTypebox<ReportRoutesOptions> = async (app, options) => {
  const deps: ReportDeps = { sql: app.sql, lateAfterDays: options.lateAfterDays };
  const mailer = startReportMailer(deps, options.report, app.log);
  app.addHook('onClose', async () => mailer.stop());

  app.get(
    '/reports/monthly/:month/:format',
    {
      onRequest: app.staffOnly('OPERATOR'),
      schema: {
        tags: ['billing'],
        summary: "A closed month's program report: pdf, xlsx, csv (one table) or html",
        description:
          `Energy, income, deductions, payouts, the distribution company's settlements and cash position, ` +
          `progress to 35 MW and 21,000 people by province, availability and alerts, the installations with the ` +
          `most income at risk. Every money figure is the ledger's. CSV tables: ${REPORT_TABLES.join(', ')}.`,
        params: Type.Object({
          month: Type.String({ pattern: '^\\d{4}-\\d{2}$', description: 'Solar Hijri YYYY-MM' }),
          format: Type.Union([Type.Literal('pdf'), Type.Literal('xlsx'), Type.Literal('csv'), Type.Literal('html')]),
        }),
        querystring: Type.Object({
          table: Type.Optional(Type.Union(REPORT_TABLES.map((t) => Type.Literal(t)))),
        }),
        response: { 200: Type.Any({ description: 'the report file' }), ...errorResponses(409) },
      },
    },
    async (request, reply) => {
      const { month, format } = request.params;
      try {
        parseMonth(month);
      } catch (error) {
        throw badField('month', (error as Error).message);
      }
      const data = await gatherReport(deps, month); // a draft or unknown month: billing's error, 409 or 404
      const file = `solar-report-${month}`;
      reply.header('cache-control', 'no-store');
      if (format === 'html') return reply.type('text/html; charset=utf-8').send(reportPage(data));
      if (format === 'csv') {
        const table = request.query.table ?? 'summary';
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${file}-${table}.csv"`)
          .send(reportCsv(data, table));
      }
      if (format === 'xlsx')
        return reply
          .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
          .header('content-disposition', `attachment; filename="${file}.xlsx"`)
          .send(reportXlsx(data));
      return reply
        .type('application/pdf')
        .header('content-disposition', `attachment; filename="${file}.pdf"`)
        .send(await reportPdf(data, options.report.chromiumPath));
    },
  );
};

export default routes;
