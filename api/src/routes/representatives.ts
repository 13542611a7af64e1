// Guardians and carers ("representatives") of beneficiaries, for operators. A representative
// signs in to the portal with their own national code and PIN (or, when they are a beneficiary
// themselves, with their beneficiary PIN) and reads the income of the people they represent.
// Every change is audited in the same transaction.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { toAsciiDigits } from '../../../lib/identifiers/digits';
import { beneficiaryExists, mobileOf, nationalCodeOf } from '../../../registry';
import { endSessionsRoute } from '../end-sessions-route';
import { notFound } from '../errors';
import { hashSecret } from '../../../lib/passwords';
import { IdParam, oneOf } from '../schemas';

export const RELATIONS = ['PARENT', 'CHILD', 'SPOUSE', 'SIBLING', 'LEGAL_GUARDIAN', 'CARER', 'OTHER'] as const;
const Relation = oneOf(RELATIONS, "the representative's relation to the beneficiary");
const Pin = Type.String({ pattern: '^[0-9۰-۹٠-٩]{4,8}$', description: '4-8 digits, given to the person in person' });
const Representative = Type.Object({
  id: Type.Integer(),
  nationalCode: Type.String(),
  fullName: Type.String(),
  mobile: Type.Union([Type.String(), Type.Null()]),
  relation: Relation,
  hasPin: Type.Boolean(),
  since: Type.String({ format: 'date-time' }),
});
const Register = Type.Object(
  {
    nationalCode: Type.String({ maxLength: 20 }),
    fullName: Type.String({ minLength: 1, maxLength: 200 }),
    mobile: Type.Optional(Type.Union([Type.String({ maxLength: 20 }), Type.Null()])),
    relation: Relation,
    pin: Type.Optional(Pin),
  },
  { additionalProperties: false },
);

type Row = {
  relation: string;
  createdAt: Date;
  representative: { id: number; nationalCode: string; fullName: string; mobile: string | null; pinHash: string | null };
};
const toRepresentative = (r: Row): Static<typeof Representative> => ({
  id: r.representative.id,
  nationalCode: r.representative.nationalCode,
  fullName: r.representative.fullName,
  mobile: r.representative.mobile,
  relation: r.relation as Static<typeof Relation>,
  hasPin: r.representative.pinHash !== null,
  since: r.createdAt.toISOString(),
});
const Params = Type.Object({ id: Type.Integer({ minimum: 1 }), representativeId: Type.Integer({ minimum: 1 }) });

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const include = { representative: true } as const;

  app.get(
    '/beneficiaries/:id/representatives',
    {
      onRequest: app.staffOnly('OPERATOR'),
      schema: {
        tags: ['beneficiaries'],
        summary: "The beneficiary's guardians and carers",
        params: IdParam,
        response: { 200: Type.Array(Representative) },
      },
    },
    async (request) => {
      if (!(await beneficiaryExists(app.prisma, request.params.id))) throw notFound('beneficiary');
      const rows = await app.prisma.representation.findMany({
        where: { beneficiaryId: request.params.id },
        include,
        orderBy: { createdAt: 'asc' },
      });
      return rows.map(toRepresentative);
    },
  );

  app.post(
    '/beneficiaries/:id/representatives',
    {
      onRequest: app.staffOnly('OPERATOR'),
      schema: {
        tags: ['beneficiaries'],
        summary: 'Register a guardian or carer for the beneficiary (a known national code is reused)',
        description:
          'A person already registered as a representative (by national code) gets the new link and the given name and mobile. ' +
          'Someone who is a beneficiary signs in with their own PIN; others need `pin` here or `PUT /representatives/{id}/pin`.',
        params: IdParam,
        body: Register,
        response: { 201: Representative },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const nationalCode = nationalCodeOf(b.nationalCode);
      const details = { fullName: b.fullName.trim(), mobile: mobileOf(b.mobile) ?? null };
      const pinHash = b.pin === undefined ? undefined : await hashSecret(toAsciiDigits(b.pin));
      const row = await app.prisma.$transaction(async (tx) => {
        if (!(await beneficiaryExists(tx, request.params.id))) throw notFound('beneficiary');
        const before = await tx.representative.findUnique({ where: { nationalCode } });
        const person = await tx.representative.upsert({
          where: { nationalCode },
          create: { nationalCode, ...details, pinHash: pinHash ?? null },
          update: { ...details, ...(pinHash ? { pinHash } : {}) },
        });
        if (before && pinHash) await app.endSessions({ representativeId: person.id }, tx); // a new PIN ends every session
        const link = await tx.representation.create({
          data: { representativeId: person.id, beneficiaryId: request.params.id, relation: b.relation },
          include,
        });
        const after = toRepresentative(link);
        await app.audit(
          request,
          {
            verb: before ? 'update' : 'create',
            entity: 'representative',
            entityId: person.id,
            before: before && { fullName: before.fullName, mobile: before.mobile },
            after: { ...details, ...(pinHash ? { pin: 'set' } : {}) },
          },
          tx,
        );
        await app.audit(
          request,
          { verb: 'add_representative', entity: 'beneficiary', entityId: request.params.id, after },
          tx,
        );
        return after;
      });
      return reply.code(201).send(row);
    },
  );

  app.delete(
    '/beneficiaries/:id/representatives/:representativeId',
    {
      onRequest: app.staffOnly('OPERATOR'),
      schema: {
        tags: ['beneficiaries'],
        summary: 'End a guardian or carer: they no longer see this beneficiary in the portal',
        params: Params,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const { id, representativeId } = request.params;
      await app.prisma.$transaction(async (tx) => {
        const key = { representativeId_beneficiaryId: { representativeId, beneficiaryId: id } };
        const link = await tx.representation.findUnique({ where: key, include });
        if (!link) throw notFound('this representative of this beneficiary');
        await tx.representation.delete({ where: key });
        // Sessions looking at this person through the link stop at once (others choose again).
        await tx.session.updateMany({ where: { representativeId, actingForId: id }, data: { actingForId: null } });
        await app.audit(
          request,
          { verb: 'remove_representative', entity: 'beneficiary', entityId: id, before: toRepresentative(link) },
          tx,
        );
      });
      return reply.code(204).send(null);
    },
  );

  endSessionsRoute(app, 'representative', (tx, id) => tx.representative.findUnique({ where: { id } }));

  app.put(
    '/representatives/:id/pin',
    {
      onRequest: app.staffOnly('OPERATOR'),
      schema: {
        tags: ['beneficiaries'],
        summary: "Set a representative's portal PIN (given to them in person)",
        params: IdParam,
        body: Type.Object({ pin: Pin }),
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const pinHash = await hashSecret(toAsciiDigits(request.body.pin));
      await app.prisma.$transaction(async (tx) => {
        if (!(await tx.representative.findUnique({ where: { id: request.params.id } })))
          throw notFound('representative');
        await tx.representative.update({ where: { id: request.params.id }, data: { pinHash } });
        await app.endSessions({ representativeId: request.params.id }, tx); // a new PIN ends every session
        await app.audit(request, { verb: 'set_pin', entity: 'representative', entityId: request.params.id }, tx);
      });
      return reply.code(204).send(null);
    },
  );
};

export default routes;
