// Shares link beneficiaries to installations over time. Rules: no two overlapping shares of one
// person in one installation (also enforced by the database), and the shares of an installation
// never exceed its capacity on any day.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { errorResponses, notFound } from '../errors';
import { IdParam, isoDay, IsoDate, PageQuery, pageOf, parseDay, paged, RecordId } from '../schemas';
import { countShares, createShare, listShares, shareById, updateShare } from '../../../registry';

export const Share = Type.Object({
  id: Type.Integer(),
  beneficiaryId: Type.Integer(),
  installationId: Type.Integer(),
  installationCode: Type.String(),
  weightW: Type.Integer(),
  validFrom: Type.String(),
  validUntil: Type.Union([Type.String(), Type.Null()]),
});
type Row = {
  id: number;
  beneficiaryId: number;
  installationId: number;
  installation: { code: string };
  weightW: number;
  validFrom: Date;
  validUntil: Date | null;
};
export const toShare = (r: Row) => ({
  id: r.id,
  beneficiaryId: r.beneficiaryId,
  installationId: r.installationId,
  installationCode: r.installation.code,
  weightW: r.weightW,
  validFrom: isoDay(r.validFrom)!,
  validUntil: isoDay(r.validUntil),
});

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/shares',
    {
      onRequest: app.staffOnly('OPERATOR'),
      schema: {
        tags: ['shares'],
        summary: 'List shares',
        querystring: Type.Composite([
          PageQuery,
          Type.Object({
            installationId: Type.Optional(RecordId()),
            beneficiaryId: Type.Optional(RecordId()),
            activeOn: Type.Optional(IsoDate),
          }),
        ]),
        response: { 200: pageOf(Share) },
      },
    },
    async (request) => {
      const { installationId, beneficiaryId, activeOn } = request.query;
      const filter = { installationId, beneficiaryId, activeOn: activeOn ? parseDay(activeOn) : undefined };
      return paged(
        request.query,
        (window) => listShares(app.prisma, filter, window),
        () => countShares(app.prisma, filter),
        toShare,
      );
    },
  );

  app.post(
    '/shares',
    {
      onRequest: app.staffOnly('OPERATOR'),
      schema: {
        tags: ['shares'],
        summary: 'Give a beneficiary a share in an installation',
        body: Type.Object(
          {
            beneficiaryId: RecordId(),
            installationId: RecordId(),
            weightW: Type.Integer({ minimum: 1, maximum: 100_000_000 }),
            validFrom: IsoDate,
            validUntil: Type.Optional(IsoDate),
          },
          { additionalProperties: false },
        ),
        response: { 201: Share, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const row = await app.prisma.$transaction(async (tx) => {
        const created = await createShare(tx, {
          beneficiaryId: b.beneficiaryId,
          installationId: b.installationId,
          weightW: b.weightW,
          validFrom: parseDay(b.validFrom),
          validUntil: b.validUntil ? parseDay(b.validUntil) : null,
        });
        await app.audit(
          request,
          { verb: 'create', entity: 'share', entityId: created.id, after: toShare(created) },
          tx,
        );
        return created;
      });
      return reply.code(201).send(toShare(row));
    },
  );

  app.patch(
    '/shares/:id',
    {
      onRequest: app.staffOnly('OPERATOR'),
      schema: {
        tags: ['shares'],
        summary: 'End a share (the person leaves) or reopen it',
        params: IdParam,
        body: Type.Object({ validUntil: Type.Union([IsoDate, Type.Null()]) }, { additionalProperties: false }),
        response: { 200: Share, ...errorResponses(409) },
      },
    },
    async (request) =>
      app.prisma.$transaction(async (tx) => {
        const before = await shareById(tx, request.params.id);
        if (!before) throw notFound('share');
        const after = await updateShare(tx, before.id, {
          validUntil: request.body.validUntil ? parseDay(request.body.validUntil) : null,
        });
        await app.audit(
          request,
          { verb: 'update', entity: 'share', entityId: after.id, before: toShare(before), after: toShare(after) },
          tx,
        );
        return toShare(after);
      }),
  );
};

export default routes;
