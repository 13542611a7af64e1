// Settlements by reconciliation status or province (OPERATOR), newest period first: billing lists
// them by installation id, the registry gives each its code and province.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { listSettlements } from '../../../../billing';
import { installationCodes, installationIdsInProvince } from '../../../../registry';
import { oneOf, PageQuery, pageOf } from '../../schemas';
import { Rials, STATUSES } from './common';

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

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/settlements',
    {
      onRequest: app.staffOnly('OPERATOR'),
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
};

export default routes;
