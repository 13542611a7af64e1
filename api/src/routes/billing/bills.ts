// A month's bills for staff: totals by province, the bills by installation (filtered, paged) and one
// installation's bill traced to its counters, tariffs and shares.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  type InstallationBillFigures,
  installationBill,
  installationBills,
  monthByProvince,
} from '../../../../billing';
import type { MonthId } from '../../../../lib/program/solar-hijri';
import { notFound } from '../../errors';
import { InstallationCode, PageQuery, pageOf } from '../../schemas';
import { billedMonthOrThrow, MonthParam, Rials, rials } from './common';

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
const InstallationsQuery = Type.Composite([
  PageQuery,
  Type.Object({
    province: Type.Optional(Type.String({ maxLength: 40 })),
    incomplete: Type.Optional(Type.Boolean()),
    implausible: Type.Optional(Type.Boolean()),
  }),
]);

const billRow = (b: InstallationBillFigures) => ({
  code: b.code,
  province: b.province,
  energyWh: b.energyWh,
  grossRials: rials(b.grossRials),
  adjustmentRials: rials(b.adjustmentRials),
  loanRials: rials(b.loanRials),
  feeRials: rials(b.feeRials),
  netRials: rials(b.netRials),
  poolRials: rials(b.poolRials),
  incomplete: b.incomplete,
  implausible: b.implausible,
  incomeRials: rials(b.incomeRials),
});

const bills: FastifyPluginAsyncTypebox = async (app) => {
  const staffRead = { onRequest: app.staffOnly('OPERATOR') };

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
      await billedMonthOrThrow(app.sql, request.params.month);
      return (await monthByProvince(app.sql, request.params.month as MonthId)).map((p) => ({
        ...p,
        grossRials: rials(p.grossRials),
        netRials: rials(p.netRials),
        poolRials: rials(p.poolRials),
      }));
    },
  );

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
      await billedMonthOrThrow(app.sql, month);
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
        shares: bill.shares.map((share) => ({ ...share, rials: rials(share.rials) })),
      };
    },
  );
};

export default bills;
