// A beneficiary's own statements (/me/statements), each line traceable to the counters behind it.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { monthElapsed, type StatementHead, statementsOf } from '../../../../billing';
import { type MonthId, monthBounds } from '../../../../lib/program/solar-hijri';
import { notFound } from '../../errors';
import { beneficiaryStatement } from '../../statements';
import { MonthParam, Rials, rials } from './common';

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
  earnedRials: rials(h.earnedRials),
  carriedInRials: rials(h.carriedInRials),
  payableRials: rials(h.payableRials),
  carriedOutRials: rials(h.carriedOutRials),
});

const statements: FastifyPluginAsyncTypebox = async (app) => {
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
          rials: rials(l.rials),
          installationBill: {
            energyWh: l.bill.energyWh,
            grossRials: rials(l.bill.grossRials),
            adjustmentRials: rials(l.bill.adjustmentRials),
            loanRials: rials(l.bill.loanRials),
            feeRials: rials(l.bill.feeRials),
            netRials: rials(l.bill.netRials),
            poolRials: rials(l.bill.poolRials),
            incomplete: l.bill.incomplete,
            implausible: l.bill.implausible,
          },
          loans: l.loans.map((loan) => ({
            reference: loan.reference,
            deductedRials: rials(loan.deductedRials),
            balanceRials: rials(loan.balanceRials),
          })),
          detail: l.detail,
        })),
      };
    },
  );
};

export default statements;
