// A signed-in beneficiary's own data, and nothing else.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { maskIdentifier } from '../../../lib/identifiers/validate';
import { beneficiaryWithProvince, sharesOf } from '../../../registry';
import { Share, toShare } from './shares';

const Me = Type.Object({
  id: Type.Integer(),
  fullName: Type.String(),
  province: Type.String(),
  provinceFa: Type.String(),
  targetGroup: Type.String(),
  shebaMasked: Type.Union([Type.String(), Type.Null()]),
  mobileMasked: Type.Union([Type.String(), Type.Null()]),
});

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const self = (principal: unknown) => (principal as { beneficiaryId: number }).beneficiaryId;

  app.get(
    '/me',
    {
      onRequest: app.beneficiaryOnly,
      schema: { tags: ['portal'], summary: 'Who I am', response: { 200: Me } },
    },
    async (request) => {
      const b = await beneficiaryWithProvince(app.prisma, self(request.principal));
      return {
        id: b.id,
        fullName: b.fullName,
        province: b.province.code,
        provinceFa: b.province.nameFa,
        targetGroup: b.targetGroup,
        shebaMasked: b.sheba && maskIdentifier(b.sheba),
        mobileMasked: b.mobile && maskIdentifier(b.mobile),
      };
    },
  );

  app.get(
    '/me/shares',
    {
      onRequest: app.beneficiaryOnly,
      schema: { tags: ['portal'], summary: 'My shares', response: { 200: Type.Array(Share) } },
    },
    async (request) => (await sharesOf(app.sql, self(request.principal))).map(toShare),
  );
};

export default routes;
