// Billing over HTTP: staff run, close and pay months and look at them by installation and province;
// beneficiaries read their own statements, each line traceable to the counters behind it.
// Rials are decimal strings: exact, whatever the client's number type.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  type BilledMonth,
  type BillingConfig,
  type BillingDeps,
  billedMonthOf,
  billedMonths,
  type InstallationBillFigures,
  installationBill,
  installationBills,
  markPaid,
  monthAttention,
  monthByProvince,
  monthElapsed,
  payoutBatch,
  payoutFile,
  recordReplacement,
  reviewCounter,
  runMonth,
  type StatementHead,
  statementsOf,
} from '../../../../billing';
import { type MonthId, monthBounds, parseMonth } from '../../../../lib/program/solar-hijri';
import type { InfluxClient } from '../../../../lib/influx/client';
import { badField, errorResponses, notFound } from '../../errors';
import { actorOf } from '../../plugins/auth';
import { InstallationCode, PageQuery, pageOf } from '../../schemas';
import { beneficiaryStatement } from '../../statements';

const Rials = Type.String({ pattern: '^-?\\d+$', description: 'whole Rials' });
const MonthParam = Type.Object({
  month: Type.String({ pattern: '^\\d{4}-\\d{2}$', description: 'Solar Hijri month, e.g. 1405-08' }),
});
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
const InstallationBillRow = Type.Object({
  code: Type.String(),
  province: Type.String(),
  energyWh: Type.Integer(),
  grossRials: Rials,
  adjustmentRials: Rials,
  incomeRials: Rials,
  loanRials: Rials,
  feeRials: Rials,
  netRials: Rials,
  poolRials: Rials,
  incomplete: Type.Boolean(),
  implausible: Type.Boolean(),
});
const InstallationBillDetail = Type.Composite([
  InstallationBillRow,
  Type.Object({
    month: Type.String(),
    detail: Type.Unknown({
      description:
        'tariff segments, deductions, adjustments, the pool and, per inverter, the counter epochs and readings used',
    }),
    shares: Type.Array(
      Type.Object({
        shareId: Type.Integer(),
        beneficiaryId: Type.Integer(),
        weightW: Type.Integer(),
        activeDays: Type.Integer(),
        rials: Rials,
      }),
    ),
  }),
]);
const ProvinceRow = Type.Object({
  province: Type.String(),
  installations: Type.Integer(),
  energyWh: Type.Integer(),
  grossRials: Rials,
  netRials: Rials,
  poolRials: Rials,
  incomplete: Type.Integer(),
  implausible: Type.Integer(),
});
const RunResult = Type.Object({
  month: Type.String(),
  status: Type.String(),
  digest: Type.String(),
  adjustments: Type.Integer(),
  seconds: Type.Number(),
});
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
const StatementSummary = Type.Object({
  month: Type.String(),
  status: Type.String(),
  toDateAt: Type.Union([Type.String(), Type.Null()], {
    description: 'set while the month is running: what you have earned so far, up to this instant',
  }),
  daysElapsed: Type.Union([Type.Number(), Type.Null()], {
    description:
      "set while the month is running: the days of the month (to a tenth) its income covers so far. The month's " +
      'own deductions (loan installments, a fixed maintenance fee) are taken in the same proportion, daysElapsed ' +
      "/ monthDays of them, so the figure so far is a fair part of the month's; the rest is deducted by the month's end",
  }),
  monthDays: Type.Integer(),
  earnedRials: Rials,
  carriedInRials: Rials,
  payableRials: Rials,
  carriedOutRials: Rials,
});
const StatementLine = Type.Object({
  installation: Type.String(),
  weightW: Type.Integer(),
  activeDays: Type.Integer(),
  rials: Rials,
  installationBill: Type.Object({
    energyWh: Type.Integer(),
    grossRials: Rials,
    adjustmentRials: Rials,
    loanRials: Rials,
    feeRials: Rials,
    netRials: Rials,
    poolRials: Rials,
    incomplete: Type.Boolean(),
  }),
  loans: Type.Array(
    Type.Object({
      reference: Type.String(),
      deductedRials: Rials,
      balanceRials: Rials,
    }),
    {
      description:
        "the installation's loans this month's installment changed: what was deducted (so far, in a running month) and the balance it leaves",
    },
  ),
  detail: Type.Unknown({
    description: 'tariff segments, deductions, adjustments and, per inverter, the counter readings used',
  }),
});
const Statement = Type.Composite([StatementSummary, Type.Object({ lines: Type.Array(StatementLine) })]);

const s = (v: unknown) => String(v);
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
  grossRials: s(m.grossRials),
  netRials: s(m.netRials),
  poolRials: s(m.poolRials),
  payableRials: s(m.payableRials),
});
const billRow = (b: InstallationBillFigures) => ({
  code: b.code,
  province: b.province,
  energyWh: b.energyWh,
  grossRials: s(b.grossRials),
  adjustmentRials: s(b.adjustmentRials),
  loanRials: s(b.loanRials),
  feeRials: s(b.feeRials),
  netRials: s(b.netRials),
  poolRials: s(b.poolRials),
  incomplete: b.incomplete,
  implausible: b.implausible,
  incomeRials: s(b.incomeRials),
});

export interface BillingRoutesOptions {
  influx: InfluxClient;
  billing: Pick<BillingConfig, 'rules' | 'adjustmentMonths' | 'lookaroundDays' | 'settlements'>;
}

const routes: FastifyPluginAsyncTypebox<BillingRoutesOptions> = async (app, options) => {
  const deps: BillingDeps = { pool: app.sql, influx: options.influx, config: options.billing, log: app.log as never };
  const monthOrThrow = async (month: string) => {
    const billed = await billedMonthOf(app.sql, month as MonthId);
    if (!billed) throw notFound(`billing month ${month}`);
    return billed;
  };
  const staffRead = { onRequest: app.staffOnly('OPERATOR') };
  // Every route here takes a month: one check names what is wrong with it (e.g. month 13).
  app.addHook('preHandler', async (request) => {
    const month = (request.params as { month?: string }).month;
    if (month === undefined) return;
    try {
      parseMonth(month);
    } catch (error) {
      throw badField('month', (error as Error).message);
    }
  });

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
    async (request) => monthRow(await monthOrThrow(request.params.month)),
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

  app.get(
    '/billing/months/:month/provinces',
    {
      ...staffRead,
      schema: {
        tags: ['billing'],
        summary: "A month's totals by province",
        params: MonthParam,
        response: { 200: Type.Array(ProvinceRow) },
      },
    },
    async (request) => {
      await monthOrThrow(request.params.month);
      return (await monthByProvince(app.sql, request.params.month as MonthId)).map((p) => ({
        ...p,
        grossRials: s(p.grossRials),
        netRials: s(p.netRials),
        poolRials: s(p.poolRials),
      }));
    },
  );

  const InstallationsQuery = Type.Composite([
    PageQuery,
    Type.Object({
      province: Type.Optional(Type.String({ maxLength: 40 })),
      incomplete: Type.Optional(Type.Boolean()),
      implausible: Type.Optional(Type.Boolean()),
    }),
  ]);
  app.get(
    '/billing/months/:month/installations',
    {
      ...staffRead,
      schema: {
        tags: ['billing'],
        summary: "A month's bills by installation",
        params: MonthParam,
        querystring: InstallationsQuery,
        response: { 200: pageOf(InstallationBillRow) },
      },
    },
    async (request) => {
      const { month } = request.params;
      const q = request.query;
      await monthOrThrow(month);
      const { rows, total } = await installationBills(
        app.sql,
        month as MonthId,
        { province: q.province, incomplete: q.incomplete, implausible: q.implausible },
        { limit: q.pageSize, offset: (q.page - 1) * q.pageSize },
      );
      return {
        items: rows.map(billRow),
        page: q.page,
        pageSize: q.pageSize,
        total,
      };
    },
  );

  app.get(
    '/billing/months/:month/installations/:code',
    {
      ...staffRead,
      schema: {
        tags: ['billing'],
        summary: "One installation's bill, traced to counters, tariffs and shares",
        params: Type.Composite([MonthParam, Type.Object({ code: InstallationCode })]),
        response: { 200: InstallationBillDetail },
      },
    },
    async (request) => {
      const { month, code } = request.params;
      const bill = await installationBill(app.sql, month as MonthId, code);
      if (!bill) throw notFound(`a bill of installation ${code} in ${month}`);
      return {
        month,
        ...billRow(bill),
        detail: bill.detail,
        shares: bill.shares.map((share) => ({ ...share, rials: s(share.rials) })),
      };
    },
  );

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
  app.get(
    '/billing/months/:month/attention',
    {
      ...staffRead,
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
      await monthOrThrow(month);
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

  /** How much of a running month a draft covers: its deductions are that share of the month's (billing's rule). */
  const toDateShare = (month: MonthId, toDateAt: number | null) => {
    const monthDays = monthBounds(month).days;
    const elapsed = monthElapsed(month, toDateAt);
    return {
      daysElapsed: elapsed ? Math.floor((elapsed.elapsedMs / elapsed.monthMs) * monthDays * 10) / 10 : null,
      monthDays,
    };
  };
  const self = (principal: unknown) => (principal as { beneficiaryId: number }).beneficiaryId;
  const statementRow = (h: StatementHead) => ({
    month: h.month,
    status: h.status,
    toDateAt: h.toDateAt?.toISOString() ?? null,
    ...toDateShare(h.month, h.toDateAt?.getTime() ?? null),
    earnedRials: String(h.earnedRials),
    carriedInRials: String(h.carriedInRials),
    payableRials: String(h.payableRials),
    carriedOutRials: String(h.carriedOutRials),
  });

  app.get(
    '/me/statements',
    {
      onRequest: app.beneficiaryOnly,
      schema: {
        tags: ['portal'],
        summary: 'My monthly statements',
        description: 'Your monthly statements, newest first (a DRAFT month is still provisional).',
        response: { 200: Type.Array(StatementSummary) },
      },
    },
    async (request) => (await statementsOf(app.sql, self(request.principal))).map(statementRow),
  );

  app.get(
    '/me/statements/:month',
    {
      onRequest: app.beneficiaryOnly,
      schema: {
        tags: ['portal'],
        summary: 'My statement for one month, line by line',
        params: MonthParam,
        response: { 200: Statement },
      },
    },
    async (request) => {
      const statement = await beneficiaryStatement(app.sql, self(request.principal), request.params.month);
      if (!statement) throw notFound(`your statement for ${request.params.month}`);
      return {
        ...statementRow(statement.head),
        lines: statement.lines.map((l) => ({
          installation: l.installation.code,
          weightW: l.weightW,
          activeDays: l.activeDays,
          rials: String(l.rials),
          installationBill: {
            energyWh: l.bill.energyWh,
            grossRials: String(l.bill.grossRials),
            adjustmentRials: String(l.bill.adjustmentRials),
            loanRials: String(l.bill.loanRials),
            feeRials: String(l.bill.feeRials),
            netRials: String(l.bill.netRials),
            poolRials: String(l.bill.poolRials),
            incomplete: l.bill.incomplete,
            implausible: l.bill.implausible,
          },
          loans: l.loans.map((loan) => ({
            reference: loan.reference,
            deductedRials: String(loan.deductedRials),
            balanceRials: String(loan.balanceRials),
          })),
          detail: l.detail,
        })),
      };
    },
  );
};

export default routes;
