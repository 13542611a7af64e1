// A signed-in beneficiary's own data, and nothing else.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { maskIdentifier } from '../../../lib/identifiers/validate';
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
      const b = await app.prisma.beneficiary.findUniqueOrThrow({
        where: { id: self(request.principal) },
        include: { province: true },
      });
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
    async (request) => {
      // The portal's hottest read: a prepared statement on the plain pool.
      const { rows } = await app.sql.query<{
        id: number;
        beneficiaryId: number;
        installationId: number;
        code: string;
        weightW: number;
        validFrom: Date;
        validUntil: Date | null;
      }>({
        name: 'own-shares',
        text:
          `SELECT s.id, s.beneficiary_id AS "beneficiaryId", s.installation_id AS "installationId", i.code, ` +
          `s.weight_w AS "weightW", s.valid_from AS "validFrom", s.valid_until AS "validUntil"
             FROM shares s JOIN installations i ON i.id = s.installation_id WHERE s.beneficiary_id = $1 ORDER BY s.valid_from`,
        values: [self(request.principal)],
      });
      return rows.map((r) => toShare({ ...r, installation: { code: r.code } }));
    },
  );
};

export default routes;
