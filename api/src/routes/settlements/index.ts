// The distribution company's settlements over HTTP (OPERATOR): import their file, reconcile it with
// telemetry, list settlements by status, and the program's cash position. Rials are decimal strings.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { InfluxClient } from '../../../../lib/influx/client';
import { jsonCopy } from '../../../../lib/json';
import { tehranDate } from '../../../../lib/program/tehran-time';
import type { AlertsConfig } from '../../../../alerts';
import {
  type BillingConfig,
  cashPosition,
  correctSettlement,
  importSettlements,
  listSettlements,
  recordSettlementPolicy,
} from '../../../../billing';
import { installationCodes, installationIdsInProvince } from '../../../../registry';
import { reconcileAndAlert } from '../../settlement-alerts';
import { errorResponses, HttpError, notFound } from '../../errors';
import { actorOf } from '../../plugins/auth';
import { IdParam, oneOf, PageQuery, pageOf } from '../../schemas';

const Rials = Type.String({ pattern: '^-?\\d+$', description: 'whole Rials' });
const STATUSES = [
  'WITHIN_TOLERANCE',
  'METER_BELOW_TELEMETRY',
  'METER_ABOVE_TELEMETRY',
  'AMOUNT_BELOW_BILLED',
  'AMOUNT_ABOVE_BILLED',
  'TELEMETRY_MISSING',
] as const;

const ImportReport = Type.Object({
  dryRun: Type.Boolean(),
  rows: Type.Integer(),
  created: Type.Integer(),
  updated: Type.Integer(),
  unchanged: Type.Integer(),
  errors: Type.Array(Type.Object({ line: Type.Integer(), column: Type.String(), reason: Type.String() })),
});
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
const SettlementItem = Type.Object({
  id: Type.Integer(),
  installationCode: Type.String(),
  province: Type.String(),
  periodFrom: Type.String({ description: 'first day (Tehran date)' }),
  periodUntil: Type.String({ description: 'the day after the last (Tehran date)' }),
  reference: Type.String(),
  meteredWh: Type.String(),
  telemetryWh: Type.Union([Type.String(), Type.Null()]),
  amountRials: Rials,
  billedRials: Type.Union([Rials, Type.Null()]),
  status: Type.Union([oneOf(STATUSES), Type.Null()], { description: 'null until reconciled' }),
  paidOn: Type.Union([Type.String(), Type.Null()]),
  correctionId: Type.Union([Type.Integer(), Type.Null()], {
    description: 'the correction whose figures (metered, amount, reference) are shown; null: as imported',
  }),
});
const Correction = Type.Object({
  id: Type.Integer(),
  settlementId: Type.Integer(),
  installationCode: Type.String(),
  periodFrom: Type.String(),
  periodUntil: Type.String(),
  reference: Type.String(),
  correctedOn: Type.String(),
  reversedRials: Rials,
  newRials: Rials,
  reason: Type.String(),
});
const CorrectionRequest = Type.Object({
  meteredWh: Type.String({ pattern: '^\\d{1,18}$', description: 'the corrected meter reading, Wh' }),
  amountRials: Type.String({ pattern: '^\\d{1,18}$', description: 'the corrected amount, whole Rials' }),
  reference: Type.Optional(Type.String({ minLength: 1, maxLength: 60 })),
  correctedOn: Type.String({ format: 'date', description: 'the day the difference was paid or taken back (Tehran)' }),
  reason: Type.String({ minLength: 5, maxLength: 300 }),
});
const Receivables = {
  settledRials: Rials,
  receivedRials: Rials,
  dueRials: Rials,
  lateRials: Rials,
};
const CashPosition = Type.Object({
  asOf: Type.String(),
  promisedRials: Rials,
  paidToBeneficiariesRials: Rials,
  owedToBeneficiariesRials: Rials,
  billedGrossRials: Rials,
  poolRials: Rials,
  deductionsRials: Rials,
  settledRials: Rials,
  receivedRials: Rials,
  receivableRials: Rials,
  receivableLateRials: Rials,
  unsettledRials: Rials,
  unsettledLateRials: Rials,
  absorbedDifferenceRials: Rials,
  carriedDifferenceRials: Rials,
  pendingDifferenceRials: Rials,
  beneficiariesCarriedRials: Rials,
  feesCarriedRials: Rials,
  installationBalancesRials: Rials,
  billedInOpenMonthsRials: Rials,
  reversedRials: Rials,
  correctedRials: Rials,
  corrections: Type.Array(Correction),
  cashRials: Rials,
  coverageRials: Rials,
  byProvince: Type.Array(
    Type.Object({ province: Type.String(), ...Receivables, unsettledRials: Rials, unsettledLateRials: Rials }),
  ),
  byPeriod: Type.Array(
    Type.Object({
      periodFrom: Type.String(),
      periodUntil: Type.String(),
      settlements: Type.Integer(),
      ...Receivables,
    }),
  ),
});

export interface SettlementRoutesOptions {
  influx: InfluxClient;
  billing: Pick<BillingConfig, 'rules' | 'lookaroundDays' | 'settlements'>;
  alerts: AlertsConfig;
}

const routes: FastifyPluginAsyncTypebox<SettlementRoutesOptions> = async (app, options) => {
  const operator = { onRequest: app.staffOnly('OPERATOR') };
  const policy = options.billing.settlements;
  // Grafana's Cash position counts late as this process does (billing/README.md, "Lateness");
  // not awaited: the API starts while PostgreSQL is away, and records it once it is back.
  let retry: NodeJS.Timeout | undefined;
  let closed = false;
  const record = (): Promise<void> =>
    recordSettlementPolicy(app.sql, policy).catch((error: Error) => {
      if (closed) return;
      app.log.warn({ err: error }, 'cannot record the settlement policy for Grafana yet; retrying');
      retry = setTimeout(() => void record(), 30_000).unref();
    });
  app.addHook('onReady', async () => void record());
  app.addHook('onClose', async () => {
    closed = true;
    clearTimeout(retry);
  });

  app.post(
    '/settlements/imports',
    {
      ...operator,
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

  app.post(
    '/settlements/reconcile',
    {
      ...operator,
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
          policy,
          stepDowns: options.billing.rules.stepDowns,
          lookaroundDays: options.billing.lookaroundDays,
          log: app.log as never,
        },
        options.alerts,
        { all: request.query.all },
      ),
  );

  app.get(
    '/settlements',
    {
      ...operator,
      schema: {
        tags: ['settlements'],
        summary: 'Settlements, newest period first, optionally by reconciliation status or province',
        querystring: Type.Composite([
          PageQuery,
          Type.Object({
            status: Type.Optional(oneOf(STATUSES)),
            province: Type.Optional(Type.String({ pattern: '^[a-z_-]{2,40}$' })),
          }),
        ]),
        response: { 200: pageOf(SettlementItem) },
      },
    },
    async (request) => {
      const q = request.query;
      // Billing lists settlements by installation id; the registry gives codes and provinces.
      const inProvince = q.province === undefined ? undefined : await installationIdsInProvince(app.sql, q.province);
      const { items, total } = await listSettlements(app.sql, {
        status: q.status,
        installationIds: inProvince,
        page: q.page,
        pageSize: q.pageSize,
      });
      const installation = await installationCodes(
        app.sql,
        items.map((item) => item.installationId),
      );
      return {
        items: items.map(({ installationId, ...item }) => ({
          ...item,
          installationCode: installation.get(installationId)!.code,
          province: installation.get(installationId)!.province,
        })),
        page: q.page,
        pageSize: q.pageSize,
        total,
      };
    },
  );

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

  app.get(
    '/settlements/cash-position',
    {
      ...operator,
      schema: {
        tags: ['settlements'],
        summary: "The program's cash: promised to and paid to beneficiaries against settled and received",
        response: { 200: CashPosition },
      },
    },
    async () => jsonCopy(await cashPosition(app.sql, tehranDate(Date.now()), policy.lateAfterDays)) as never,
  );
};

export default routes;
