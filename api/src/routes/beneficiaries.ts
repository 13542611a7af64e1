// Beneficiaries, for operators: identifiers are validated and normalised (Persian digits accepted).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { cancelQueuedSms } from '../../../billing';
import { toAsciiDigits } from '../../../lib/identifiers/digits';
import {
  beneficiaryById,
  beneficiaryExists,
  countBeneficiaries,
  createBeneficiary,
  listBeneficiaries,
  setPinHash,
  setSmsOptOut,
  updateBeneficiary,
} from '../../../registry';
import { endSessionsRoute } from '../end-sessions-route';
import { errorResponses, notFound } from '../errors';
import { hashSecret } from '../../../lib/passwords';
import { IdParam, PageQuery, pageOf, oneOf, paged } from '../schemas';

export const TargetGroup = oneOf([
  'WOMAN_HEAD_OF_HOUSEHOLD',
  'PERSON_WITH_DISABILITY',
  'RECOVERED_FROM_ADDICTION',
  'INDEPENDENT_YOUNG_ADULT',
  'OTHER',
]);
const Status = oneOf(['ACTIVE', 'SUSPENDED', 'EXITED']);
const Beneficiary = Type.Object({
  id: Type.Integer(),
  nationalCode: Type.String(),
  fullName: Type.String(),
  mobile: Type.Union([Type.String(), Type.Null()]),
  sheba: Type.Union([Type.String(), Type.Null()]),
  province: Type.String(),
  targetGroup: TargetGroup,
  status: Status,
  hasPin: Type.Boolean(),
});
const Editable = {
  fullName: Type.String({ minLength: 1, maxLength: 200 }),
  mobile: Type.Union([Type.String({ maxLength: 20 }), Type.Null()]),
  sheba: Type.Union([Type.String({ maxLength: 40 }), Type.Null()]),
  province: Type.String({ maxLength: 40 }),
  targetGroup: TargetGroup,
  status: Status,
};
const Create = Type.Object(
  {
    nationalCode: Type.String({ maxLength: 20 }),
    ...Editable,
    mobile: Type.Optional(Editable.mobile),
    sheba: Type.Optional(Editable.sheba),
    status: Type.Optional(Status),
  },
  { additionalProperties: false },
);
const Update = Type.Partial(Type.Object(Editable), { additionalProperties: false });

type Row = {
  id: number;
  nationalCode: string;
  fullName: string;
  mobile: string | null;
  sheba: string | null;
  province: { code: string };
  targetGroup: string;
  status: string;
  pinHash: string | null;
};
export const toBeneficiary = (r: Row): Static<typeof Beneficiary> => ({
  id: r.id,
  nationalCode: r.nationalCode,
  fullName: r.fullName,
  mobile: r.mobile,
  sheba: r.sheba,
  province: r.province.code,
  targetGroup: r.targetGroup as Static<typeof TargetGroup>,
  status: r.status as Static<typeof Status>,
  hasPin: r.pinHash !== null,
});

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/beneficiaries',
    {
      onRequest: app.staffOnly('OPERATOR'),
      schema: {
        tags: ['beneficiaries'],
        summary: 'List beneficiaries',
        querystring: Type.Composite([
          PageQuery,
          Type.Object({
            province: Type.Optional(Type.String()),
            status: Type.Optional(Status),
            targetGroup: Type.Optional(TargetGroup),
            q: Type.Optional(Type.String({ maxLength: 100 })),
          }),
        ]),
        response: { 200: pageOf(Beneficiary) },
      },
    },
    async (request) => {
      const { province, status, targetGroup, q } = request.query;
      const filter = { province, status, targetGroup, q };
      return paged(
        request.query,
        (window) => listBeneficiaries(app.prisma, filter, window),
        () => countBeneficiaries(app.prisma, filter),
        toBeneficiary,
      );
    },
  );

  app.get(
    '/beneficiaries/:id',
    {
      onRequest: app.staffOnly('OPERATOR'),
      schema: { tags: ['beneficiaries'], summary: 'One beneficiary', params: IdParam, response: { 200: Beneficiary } },
    },
    async (request) => {
      const row = await beneficiaryById(app.prisma, request.params.id);
      if (!row) throw notFound('beneficiary');
      return toBeneficiary(row);
    },
  );

  app.post(
    '/beneficiaries',
    {
      onRequest: app.staffOnly('OPERATOR'),
      schema: {
        tags: ['beneficiaries'],
        summary: 'Register a beneficiary',
        body: Create,
        response: { 201: Beneficiary, ...errorResponses(409) },
      },
    },
    async (request, reply) => {
      const row = await app.prisma.$transaction(async (tx) => {
        const created = await createBeneficiary(tx, request.body);
        await app.audit(
          request,
          { verb: 'create', entity: 'beneficiary', entityId: created.id, after: toBeneficiary(created) },
          tx,
        );
        return created;
      });
      return reply.code(201).send(toBeneficiary(row));
    },
  );

  app.patch(
    '/beneficiaries/:id',
    {
      onRequest: app.staffOnly('OPERATOR'),
      schema: {
        tags: ['beneficiaries'],
        summary: 'Change a beneficiary',
        params: IdParam,
        body: Update,
        response: { 200: Beneficiary, ...errorResponses(409) },
      },
    },
    async (request) => {
      return app.prisma.$transaction(async (tx) => {
        const changed = await updateBeneficiary(tx, request.params.id, request.body);
        if (!changed) throw notFound('beneficiary');
        const { before, after } = changed;
        // Leaving the program ends the portal sessions at once (sign-in refuses them from now on).
        if (after.status === 'EXITED' && before.status !== 'EXITED')
          await app.endSessions({ beneficiaryId: after.id }, tx);
        await app.audit(
          request,
          {
            verb: 'update',
            entity: 'beneficiary',
            entityId: after.id,
            before: toBeneficiary(before),
            after: toBeneficiary(after),
          },
          tx,
        );
        return toBeneficiary(after);
      });
    },
  );

  endSessionsRoute(app, 'beneficiary', beneficiaryExists);

  app.put(
    '/beneficiaries/:id/pin',
    {
      onRequest: app.staffOnly('OPERATOR'),
      schema: {
        tags: ['beneficiaries'],
        summary: "Set the beneficiary's portal PIN (given to them in person)",
        params: IdParam,
        body: Type.Object({
          pin: Type.String({ pattern: '^[0-9۰-۹٠-٩]{4,8}$', description: 'ASCII, Persian or Arabic-Indic digits' }),
        }),
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      // Hashed before the transaction: a deliberately slow hash must not hold it open.
      const pinHash = await hashSecret(toAsciiDigits(request.body.pin));
      await app.prisma.$transaction(async (tx) => {
        if (!(await setPinHash(tx, request.params.id, pinHash))) throw notFound('beneficiary');
        await app.endSessions({ beneficiaryId: request.params.id }, tx); // a new PIN ends every session
        await app.audit(request, { verb: 'set_pin', entity: 'beneficiary', entityId: request.params.id }, tx);
      });
      return reply.code(204).send(null);
    },
  );

  app.put(
    '/beneficiaries/:id/sms',
    {
      onRequest: app.staffOnly('OPERATOR'),
      schema: {
        tags: ['beneficiaries'],
        summary: 'Record whether the beneficiary wants the program SMS (statement ready, payday)',
        description:
          'An opt-out takes effect at once: messages still queued for them are cancelled, none are queued later.',
        params: IdParam,
        body: Type.Object({ optOut: Type.Boolean() }),
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await app.prisma.$transaction(async (tx) => {
        const before = await setSmsOptOut(tx, request.params.id, request.body.optOut);
        if (!before) throw notFound('beneficiary');
        const optedOut = before.wasOptedOut;
        if (optedOut === request.body.optOut) return;
        if (request.body.optOut) await cancelQueuedSms(tx, request.params.id);
        await app.audit(
          request,
          {
            verb: request.body.optOut ? 'sms_opt_out' : 'sms_opt_in',
            entity: 'beneficiary',
            entityId: request.params.id,
            before: { smsOptOut: optedOut },
            after: { smsOptOut: request.body.optOut },
          },
          tx,
        );
      });
      return reply.code(204).send(null);
    },
  );
};

export default routes;
