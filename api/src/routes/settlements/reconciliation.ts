// Settlements against telemetry (OPERATOR): each export meter well below what its inverters counted
// raises a METER_SHORTFALL alert (settlement-alerts.ts, shared with the command line).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { reconcileAndAlert } from '../../settlement-alerts';
import type { SettlementRoutesOptions } from './common';

const ReconcileSummary = Type.Object({
  reconciled: Type.Integer(),
  periods: Type.Integer(),
  byStatus: Type.Record(Type.String(), Type.Integer()),
  meterProblems: Type.Array(
    Type.Object({
      settlementId: Type.Integer(),
      installationCode: Type.String(),
      reference: Type.String(),
      periodFrom: Type.String(),
      periodUntil: Type.String(),
      energyDifferencePercent: Type.Union([Type.Number(), Type.Null()]),
      missingKwhPerDay: Type.Number(),
    }),
  ),
  seconds: Type.Number(),
});

const routes: FastifyPluginAsyncTypebox<SettlementRoutesOptions> = async (app, options) => {
  app.post(
    '/settlements/reconcile',
    {
      onRequest: app.staffOnly('OPERATOR'),
      schema: {
        tags: ['settlements'],
        summary:
          'Reconcile settlements with telemetry (new, changed and those still missing telemetry; all with ?all=true)',
        querystring: Type.Object({ all: Type.Boolean({ default: false }) }),
        response: { 200: ReconcileSummary },
      },
    },
    async (request) =>
      reconcileAndAlert(
        {
          pool: app.sql,
          influx: options.influx,
          policy: options.billing.settlements,
          stepDowns: options.billing.rules.stepDowns,
          lookaroundDays: options.billing.lookaroundDays,
          log: app.log as never,
        },
        options.alerts,
        { all: request.query.all },
      ),
  );
};

export default routes;
