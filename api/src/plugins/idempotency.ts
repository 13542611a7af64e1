// A create request with an `Idempotency-Key` header is answered once; a retry with the same key
// (same caller, same route) gets the stored answer instead of making a twin.
import fp from 'fastify-plugin';
import { HttpError } from '../errors';
import { actorOf } from './auth';

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyKey?: string;
  }
}

export default fp(
  async (app) => {
    app.addHook('preHandler', async (request, reply) => {
      const key = request.headers['idempotency-key'];
      if (request.method !== 'POST' || typeof key !== 'string') return;
      if (key.length < 8 || key.length > 200)
        throw new HttpError(400, 'Idempotency-Key: must be 8 to 200 characters', 'Idempotency-Key');
      const scoped = `${actorOf(request.principal)}|${key}`;
      const route = `${request.method} ${request.url}`;
      const previous = await app.prisma.idempotentRequest.findUnique({ where: { key: scoped } });
      if (previous) {
        if (previous.route !== route)
          throw new HttpError(409, `Idempotency-Key: already used for ${previous.route}`, 'Idempotency-Key');
        return reply.code(previous.statusCode).header('idempotent-replay', 'true').send(previous.response);
      }
      request.idempotencyKey = scoped;
    });
    app.addHook('onSend', async (request, reply, payload) => {
      if (!request.idempotencyKey || reply.statusCode >= 300 || typeof payload !== 'string') return payload;
      await app.prisma.idempotentRequest
        .create({
          data: {
            key: request.idempotencyKey,
            actor: actorOf(request.principal),
            route: `${request.method} ${request.url}`,
            statusCode: reply.statusCode,
            response: JSON.parse(payload),
          },
        })
        .catch(() => undefined); // a concurrent twin stored it first: the first answer stands
      return payload;
    });
  },
  { name: 'idempotency', dependencies: ['prisma', 'auth'] },
);
