import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { badField, errorResponses, notFound } from '../errors';
import { IdParam, InstallationCode, isoDay, IsoDate, PageQuery, pageOf, parseDay, oneOf, paged } from '../schemas';

const Status = oneOf(['PLANNED', 'COMMISSIONED', 'SUSPENDED', 'DECOMMISSIONED']);
const Fields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  province: Type.String({ minLength: 1, maxLength: 40, description: 'province code, e.g. yazd' }),
  latitude: Type.Number({ minimum: 24, maximum: 40.5, description: "inside Iran's latitude range" }),
  longitude: Type.Number({ minimum: 44, maximum: 63.5 }),
  dcCapacityKwp: Type.Number({ exclusiveMinimum: 0, maximum: 100_000 }),
  acRatingKw: Type.Number({ exclusiveMinimum: 0, maximum: 100_000 }),
  commissionedOn: Type.Union([IsoDate, Type.Null()]),
  status: Status,
};
export const Installation = Type.Object({ id: Type.Integer(), code: Type.String(), ...Fields });
const CreateInstallation = Type.Object(
  {
    code: InstallationCode,
    ...Fields,
    commissionedOn: Type.Optional(Fields.commissionedOn),
    status: Type.Optional(Status),
  },
  { additionalProperties: false },
);
const UpdateInstallation = Type.Partial(Type.Object(Fields), { additionalProperties: false });

type Row = {
  id: number;
  code: string;
  name: string;
  province: { code: string };
  latitude: unknown;
  longitude: unknown;
  dcCapacityKwp: unknown;
  acRatingKw: unknown;
  commissionedOn: Date | null;
  status: string;
};
export const toInstallation = (r: Row): Static<typeof Installation> => ({
  id: r.id,
  code: r.code,
  name: r.name,
  province: r.province.code,
  latitude: Number(r.latitude),
  longitude: Number(r.longitude),
  dcCapacityKwp: Number(r.dcCapacityKwp),
  acRatingKw: Number(r.acRatingKw),
  commissionedOn: isoDay(r.commissionedOn),
  status: r.status as Static<typeof Status>,
});

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const include = { province: { select: { code: true } } } as const;
  const provinceId = async (code: string) => {
    const province = await app.prisma.province.findUnique({ where: { code } });
    if (!province) throw badField('province', `unknown province code '${code}'`);
    return province.id;
  };

  app.get(
    '/installations',
    {
      onRequest: app.staffOnly('OPERATOR', 'TECHNICIAN'),
      schema: {
        tags: ['installations'],
        summary: 'List installations',
        querystring: Type.Composite([
          PageQuery,
          Type.Object({
            province: Type.Optional(Type.String()),
            status: Type.Optional(Status),
            q: Type.Optional(Type.String({ maxLength: 100 })),
          }),
        ]),
        response: { 200: pageOf(Installation) },
      },
    },
    async (request) => {
      const { province, status, q } = request.query;
      const where = {
        ...(province ? { province: { code: province } } : {}),
        ...(status ? { status } : {}),
        ...(q
          ? {
              OR: [
                { name: { contains: q, mode: 'insensitive' as const } },
                { code: { contains: q, mode: 'insensitive' as const } },
              ],
            }
          : {}),
      };
      return paged(
        request.query,
        (window) => app.prisma.installation.findMany({ where, include, orderBy: { id: 'asc' }, ...window }),
        () => app.prisma.installation.count({ where }),
        toInstallation,
      );
    },
  );

  app.get(
    '/installations/:id',
    {
      onRequest: app.staffOnly('OPERATOR', 'TECHNICIAN'),
      schema: {
        tags: ['installations'],
        summary: 'One installation',
        params: IdParam,
        response: { 200: Installation },
      },
    },
    async (request) => {
      const row = await app.prisma.installation.findUnique({ where: { id: request.params.id }, include });
      if (!row) throw notFound('installation');
      return toInstallation(row);
    },
  );

  app.post(
    '/installations',
    {
      onRequest: app.staffOnly('OPERATOR'),
      schema: {
        tags: ['installations'],
        summary: 'Register an installation',
        body: CreateInstallation,
        response: { 201: Installation, ...errorResponses(409) },
      },
    },
    async (request, reply) => {
      const { province, commissionedOn, ...rest } = request.body;
      const row = await app.prisma.$transaction(async (tx) => {
        const created = await tx.installation.create({
          data: {
            ...rest,
            provinceId: await provinceId(province),
            commissionedOn: commissionedOn ? parseDay(commissionedOn) : null,
          },
          include,
        });
        await app.audit(
          request,
          { verb: 'create', entity: 'installation', entityId: created.id, after: toInstallation(created) },
          tx,
        );
        return created;
      });
      return reply.code(201).send(toInstallation(row));
    },
  );

  app.patch(
    '/installations/:id',
    {
      onRequest: app.staffOnly('OPERATOR'),
      schema: {
        tags: ['installations'],
        summary: 'Change an installation',
        params: IdParam,
        body: UpdateInstallation,
        response: { 200: Installation, ...errorResponses(409) },
      },
    },
    async (request) => {
      const { province, commissionedOn, ...rest } = request.body;
      return app.prisma.$transaction(async (tx) => {
        const before = await tx.installation.findUnique({ where: { id: request.params.id }, include });
        if (!before) throw notFound('installation');
        const after = await tx.installation.update({
          where: { id: before.id },
          include,
          data: {
            ...rest,
            ...(province ? { provinceId: await provinceId(province) } : {}),
            ...(commissionedOn !== undefined
              ? { commissionedOn: commissionedOn ? parseDay(commissionedOn) : null }
              : {}),
          },
        });
        await app.audit(
          request,
          {
            verb: 'update',
            entity: 'installation',
            entityId: after.id,
            before: toInstallation(before),
            after: toInstallation(after),
          },
          tx,
        );
        return toInstallation(after);
      });
    },
  );
};

export default routes;
