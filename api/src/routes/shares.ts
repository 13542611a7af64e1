// Shares link beneficiaries to installations over time. Rules: no two overlapping shares of one
// person in one installation (also enforced by the database), and the shares of an installation
// never exceed its capacity on any day.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { badField, ErrorBody, HttpError, notFound } from '../errors';
import { IdParam, isoDay, IsoDate, PageQuery, pageOf, parseDay, skipTake } from '../schemas';
import { overlaps, peakWeightW } from '../share-rules';

export const Share = Type.Object({
  id: Type.Integer(), beneficiaryId: Type.Integer(), installationId: Type.Integer(), installationCode: Type.String(),
  weightW: Type.Integer(), validFrom: Type.String(), validUntil: Type.Union([Type.String(), Type.Null()]),
});
type Row = { id: number; beneficiaryId: number; installationId: number; installation: { code: string }; weightW: number; validFrom: Date; validUntil: Date | null };
export const toShare = (r: Row) => ({ id: r.id, beneficiaryId: r.beneficiaryId, installationId: r.installationId, installationCode: r.installation.code, weightW: r.weightW, validFrom: isoDay(r.validFrom)!, validUntil: isoDay(r.validUntil) });
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const include = { installation: { select: { code: true } } } as const;

  app.get('/shares', {
    onRequest: app.staffOnly('OPERATOR'),
    schema: { tags: ['shares'], querystring: Type.Composite([PageQuery, Type.Object({ installationId: Type.Optional(Type.Integer()), beneficiaryId: Type.Optional(Type.Integer()), activeOn: Type.Optional(IsoDate) })]), response: { 200: pageOf(Share), ...errors } },
  }, async (request) => {
    const { installationId, beneficiaryId, activeOn } = request.query;
    const day = activeOn ? parseDay(activeOn) : null;
    const where = {
      ...(installationId ? { installationId } : {}), ...(beneficiaryId ? { beneficiaryId } : {}),
      ...(day ? { validFrom: { lte: day }, OR: [{ validUntil: null }, { validUntil: { gt: day } }] } : {}),
    };
    const [rows, total] = await Promise.all([app.prisma.share.findMany({ where, include, orderBy: { id: 'asc' }, ...skipTake(request.query) }), app.prisma.share.count({ where })]);
    return { items: rows.map(toShare), page: request.query.page, pageSize: request.query.pageSize, total };
  });

  app.post('/shares', {
    onRequest: app.staffOnly('OPERATOR'),
    schema: { tags: ['shares'], body: Type.Object({ beneficiaryId: Type.Integer({ minimum: 1 }), installationId: Type.Integer({ minimum: 1 }), weightW: Type.Integer({ minimum: 1, maximum: 100_000_000 }), validFrom: IsoDate, validUntil: Type.Optional(IsoDate) }, { additionalProperties: false }), response: { 201: Share, ...errors } },
  }, async (request, reply) => {
    const b = request.body;
    const candidate = { weightW: b.weightW, validFrom: parseDay(b.validFrom), validUntil: b.validUntil ? parseDay(b.validUntil) : null };
    if (candidate.validUntil && candidate.validUntil <= candidate.validFrom) throw badField('validUntil', 'must be after validFrom');
    const row = await app.prisma.$transaction(async (tx) => {
      // Serialise share changes per installation, so two concurrent requests cannot both fit.
      const locked = await tx.$queryRaw<{ dc_capacity_kwp: string }[]>`SELECT dc_capacity_kwp FROM installations WHERE id = ${b.installationId} FOR UPDATE`;
      if (locked.length === 0) throw badField('installationId', 'no such installation');
      const person = await tx.beneficiary.findUnique({ where: { id: b.beneficiaryId } });
      if (!person) throw badField('beneficiaryId', 'no such beneficiary');
      if (person.status === 'EXITED') throw badField('beneficiaryId', 'this beneficiary has exited the program');
      const capacityW = Math.round(Number(locked[0]!.dc_capacity_kwp) * 1000);
      const existing = await tx.share.findMany({ where: { installationId: b.installationId } });
      if (existing.some((s) => s.beneficiaryId === b.beneficiaryId && overlaps(s, candidate))) {
        throw new HttpError(409, 'validFrom: this beneficiary already has a share in this installation that overlaps this period', 'validFrom');
      }
      const peak = peakWeightW(existing, candidate);
      if (peak > capacityW) throw new HttpError(409, `weightW: shares would reach ${peak} W on some day, above the installation's ${capacityW} W`, 'weightW');
      const created = await tx.share.create({ data: { beneficiaryId: b.beneficiaryId, installationId: b.installationId, ...candidate }, include });
      await app.audit(request, { action: 'create', entity: 'share', entityId: created.id, after: toShare(created) }, tx);
      return created;
    });
    return reply.code(201).send(toShare(row));
  });

  app.patch('/shares/:id', {
    onRequest: app.staffOnly('OPERATOR'),
    schema: { tags: ['shares'], summary: 'End a share (the person leaves) or reopen it', params: IdParam, body: Type.Object({ validUntil: Type.Union([IsoDate, Type.Null()]) }, { additionalProperties: false }), response: { 200: Share, ...errors } },
  }, async (request) => app.prisma.$transaction(async (tx) => {
    const before = await tx.share.findUnique({ where: { id: request.params.id }, include });
    if (!before) throw notFound('share');
    const validUntil = request.body.validUntil ? parseDay(request.body.validUntil) : null;
    if (validUntil && validUntil <= before.validFrom) throw badField('validUntil', 'must be after validFrom');
    await tx.$queryRaw`SELECT id FROM installations WHERE id = ${before.installationId} FOR UPDATE`;
    const capacity = (await tx.installation.findUniqueOrThrow({ where: { id: before.installationId } })).dcCapacityKwp;
    const others = await tx.share.findMany({ where: { installationId: before.installationId, id: { not: before.id } } });
    const peak = peakWeightW(others, { weightW: before.weightW, validFrom: before.validFrom, validUntil });
    if (peak > Math.round(Number(capacity) * 1000)) throw new HttpError(409, `validUntil: shares would reach ${peak} W on some day, above the installation's capacity`, 'validUntil');
    const after = await tx.share.update({ where: { id: before.id }, data: { validUntil }, include });
    await app.audit(request, { action: 'update', entity: 'share', entityId: after.id, before: toShare(before), after: toShare(after) }, tx);
    return toShare(after);
  }));
};

export default routes;
