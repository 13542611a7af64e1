import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import {
  countInstallations,
  createInstallation,
  installationById,
  listInstallations,
  updateInstallation,
} from '../../../registry';
import { errorResponses, notFound } from '../errors';
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
      const filter = { province, status, q };
      return paged(
        request.query,
        (window) => listInstallations(app.prisma, filter, window),
        () => countInstallations(app.prisma, filter),
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
      const row = await installationById(app.prisma, request.params.id);
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
        const created = await createInstallation(tx, {
          ...rest,
          province,
          commissionedOn: commissionedOn ? parseDay(commissionedOn) : null,
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
        const changed = await updateInstallation(tx, request.params.id, {
          ...rest,
          province,
          ...(commissionedOn !== undefined ? { commissionedOn: commissionedOn ? parseDay(commissionedOn) : null } : {}),
        });
        if (!changed) throw notFound('installation');
        const { before, after } = changed;
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
