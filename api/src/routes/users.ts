// Staff accounts, for administrators: create, change role, disable or enable, reset the password.
// Disabling and a new password end the account's sessions at once.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { oneOf } from '../schemas';
import { errorResponses, notFound } from '../errors';
import { hashSecret } from '../../../lib/passwords';

const User = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  role: Type.String(),
  disabled: Type.Boolean(),
});
const Password = Type.String({ minLength: 10, maxLength: 200 });
const Role = oneOf(['ADMIN', 'OPERATOR', 'TECHNICIAN']);
const IdParam = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });
const toUser = (u: { id: number; username: string; role: string; disabledAt: Date | null }) => ({
  id: u.id,
  username: u.username,
  role: u.role,
  disabled: u.disabledAt !== null,
});

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/users',
    {
      onRequest: app.staffOnly(),
      schema: {
        tags: ['users'],
        summary: 'Create a staff account',
        body: Type.Object(
          { username: Type.String({ pattern: '^[a-z0-9._-]{3,60}$' }), password: Password, role: Role },
          { additionalProperties: false },
        ),
        response: { 201: User, ...errorResponses(409) },
      },
    },
    async (request, reply) => {
      const { username, password, role } = request.body;
      // Hashed before the transaction: a deliberately slow hash must not hold it open.
      const passwordHash = await hashSecret(password);
      const user = await app.prisma.$transaction(async (tx) => {
        const created = await tx.user.create({ data: { username, role, passwordHash } });
        await app.audit(
          request,
          { verb: 'create', entity: 'user', entityId: created.id, after: { username, role } },
          tx,
        );
        return created;
      });
      return reply.code(201).send(toUser(user));
    },
  );

  app.patch(
    '/users/:id',
    {
      onRequest: app.staffOnly(),
      schema: {
        tags: ['users'],
        summary: 'Change the role, or disable (ends every session) or enable the account',
        params: IdParam,
        body: Type.Object(
          { role: Type.Optional(Role), disabled: Type.Optional(Type.Boolean()) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: User },
      },
    },
    async (request) =>
      app.prisma.$transaction(async (tx) => {
        const before = await tx.user.findUnique({ where: { id: request.params.id } });
        if (!before) throw notFound('user');
        const { role, disabled } = request.body;
        const after = await tx.user.update({
          where: { id: before.id },
          data: {
            ...(role ? { role } : {}),
            ...(disabled === undefined ? {} : { disabledAt: disabled ? (before.disabledAt ?? new Date()) : null }),
          },
        });
        if (after.disabledAt !== null || after.role !== before.role) await app.endSessions({ userId: after.id }, tx);
        await app.audit(
          request,
          { verb: 'update', entity: 'user', entityId: after.id, before: toUser(before), after: toUser(after) },
          tx,
        );
        return toUser(after);
      }),
  );

  app.put(
    '/users/:id/password',
    {
      onRequest: app.staffOnly(),
      schema: {
        tags: ['users'],
        summary: "Reset a staff member's password (ends every session of the account)",
        params: IdParam,
        body: Type.Object({ password: Password }, { additionalProperties: false }),
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const passwordHash = await hashSecret(request.body.password);
      await app.prisma.$transaction(async (tx) => {
        if (!(await tx.user.findUnique({ where: { id: request.params.id } }))) throw notFound('user');
        await tx.user.update({ where: { id: request.params.id }, data: { passwordHash } });
        await app.endSessions({ userId: request.params.id }, tx);
        await app.audit(request, { verb: 'reset_password', entity: 'user', entityId: request.params.id }, tx);
      });
      return reply.code(204).send(null);
    },
  );
};

export default routes;
