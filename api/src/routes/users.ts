// Staff accounts, for administrators.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { oneOf } from '../schemas';
import { errorResponses } from '../errors';
import { hashSecret } from '../../../lib/passwords';

const User = Type.Object({ id: Type.Integer(), username: Type.String(), role: Type.String() });

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/users',
    {
      onRequest: app.staffOnly(),
      schema: {
        tags: ['users'],
        summary: 'Create a staff account',
        body: Type.Object(
          {
            username: Type.String({ pattern: '^[a-z0-9._-]{3,60}$' }),
            password: Type.String({ minLength: 10, maxLength: 200 }),
            role: oneOf(['ADMIN', 'OPERATOR', 'TECHNICIAN']),
          },
          { additionalProperties: false },
        ),
        response: { 201: User, ...errorResponses(409) },
      },
    },
    async (request, reply) => {
      const { username, password, role } = request.body;
      const user = await app.prisma.$transaction(async (tx) => {
        const created = await tx.user.create({ data: { username, role, passwordHash: await hashSecret(password) } });
        await app.audit(
          request,
          { action: 'create', entity: 'user', entityId: created.id, after: { username, role } },
          tx,
        );
        return created;
      });
      return reply.code(201).send({ id: user.id, username: user.username, role: user.role });
    },
  );
};

export default routes;
