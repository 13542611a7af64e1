// Months for staff: the list with their totals, one month, and running one as a draft or closing it.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { type BilledMonth, type BillingConfig, type BillingDeps, billedMonths, runMonth } from '../../../../billing';
import type { InfluxClient } from '../../../../lib/influx/client';
import { errorResponses } from '../../errors';
import { actorOf } from '../../plugins/auth';
import { billedMonthOrThrow, MonthParam, Rials, rials } from './common';

const MonthTotals = Type.Object({
  month: Type.String(),
  status: Type.String(),
  computedAt: Type.String(),
  closedAt: Type.Union([Type.String(), Type.Null()]),
  toDateAt: Type.Union([Type.String(), Type.Null()], {
    description:
      "set while the month is running: energy and income so far, up to each inverter's latest reading before " +
      'this instant (a draft that cannot be closed); null once the month is billed whole',
  }),
  digest: Type.String(),
  installations: Type.Integer(),
  beneficiaries: Type.Integer(),
  incomplete: Type.Integer(),
  implausible: Type.Integer({ description: 'installations held: a counter read more than its inverter could produce' }),
  energyWh: Type.Integer(),
  grossRials: Rials,
  netRials: Rials,
  poolRials: Rials,
  payableRials: Rials,
});
const RunResult = Type.Object({
  month: Type.String(),
  status: Type.String(),
  digest: Type.String(),
  adjustments: Type.Integer(),
  seconds: Type.Number(),
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const monthRow = (m: BilledMonth) => ({
  month: m.month,
  status: m.status,
  computedAt: m.computedAt.toISOString(),
  closedAt: iso(m.closedAt),
  toDateAt: iso(m.toDateAt),
  digest: m.digest,
  installations: m.installations,
  beneficiaries: m.beneficiaries,
  incomplete: m.incomplete,
  implausible: m.implausible,
  energyWh: m.energyWh,
  grossRials: rials(m.grossRials),
  netRials: rials(m.netRials),
  poolRials: rials(m.poolRials),
  payableRials: rials(m.payableRials),
});

export interface BillingRoutesOptions {
  influx: InfluxClient;
  billing: Pick<BillingConfig, 'rules' | 'adjustmentMonths' | 'lookaroundDays' | 'settlements'>;
}

const months: FastifyPluginAsyncTypebox<BillingRoutesOptions> = async (app, options) => {
  const deps: BillingDeps = { pool: app.sql, influx: options.influx, config: options.billing, log: app.log as never };
  const staffRead = { onRequest: app.staffOnly('OPERATOR') };

  app.get(
    '/billing/months',
    {
      ...staffRead,
      schema: {
        tags: ['billing'],
        summary: 'List billed months with their totals',
        response: { 200: Type.Array(MonthTotals) },
      },
    },
    async () => (await billedMonths(app.sql)).map(monthRow),
  );

  app.get(
    '/billing/months/:month',
    {
      ...staffRead,
      schema: {
        tags: ['billing'],
        summary: "One month's totals and status",
        params: MonthParam,
        response: { 200: MonthTotals },
      },
    },
    async (request) => monthRow(await billedMonthOrThrow(app.sql, request.params.month)),
  );

  for (const close of [false, true]) {
    app.post(
      `/billing/months/:month/${close ? 'close' : 'draft'}`,
      {
        onRequest: close ? app.staffOnly() : app.staffOnly('OPERATOR'),
        schema: {
          tags: ['billing'],
          summary: close ? 'Bill a month once more and close it' : 'Bill a month as a draft',
          description: close
            ? 'Bills the month once more and closes it (ADMIN). Closed months never change.'
            : 'Bills the month as a draft, replacing the previous draft.',
          params: MonthParam,
          response: { 200: RunResult, ...errorResponses(409) },
        },
      },
      async (request) => {
        const r = await runMonth(deps, request.params.month, { close, actor: actorOf(request.principal) });
        return { month: r.month, status: r.status, digest: r.digest, adjustments: r.adjustments, seconds: r.seconds };
      },
    );
  }
};

export default months;
