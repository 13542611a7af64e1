// A create (201) by a signed-in staff member with an `Idempotency-Key` header is answered once; a
// retry with the same key (same caller, same route, within the lifetime) gets the stored answer
// instead of making a twin. Nothing else is stored: not anonymous calls (sign-in), not other
// answers. A route whose answer holds a secret shown once (a device password) declares
// `config.secretReply`: only the fact that it was done is kept, and a retry is refused with what
// to do instead, so no secret is ever stored or replayed.
import fp from 'fastify-plugin';
import { HttpError } from '../errors';
import type { Principal } from './auth';

// Keys are scoped per caller, in the form they have been stored in from the start (staff only).
const callerOf = (p: Principal | null) => (p?.kind === 'staff' ? `user:${p.username}` : 'anonymous');

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyKey?: string;
  }
  interface FastifyContextConfig {
    /** The answer holds a secret shown once; a retry is refused with this advice instead of replayed. */
    secretReply?: string;
  }
}

export default fp<{ ttlHours: number }>(
  async (app, { ttlHours }) => {
    app.addHook('preHandler', async (request, reply) => {
      const key = request.headers['idempotency-key'];
      if (request.method !== 'POST' || typeof key !== 'string' || request.principal?.kind !== 'staff') return;
      if (key.length < 8 || key.length > 200)
        throw new HttpError(400, 'Idempotency-Key: must be 8 to 200 characters', 'Idempotency-Key');
      const scoped = `${callerOf(request.principal)}|${key}`;
      const route = `${request.method} ${request.url}`;
      const previous = await app.prisma.idempotentRequest.findUnique({ where: { key: scoped } });
      if (previous && previous.createdAt.getTime() > Date.now() - ttlHours * 3_600_000) {
        if (previous.route !== route)
          throw new HttpError(409, `Idempotency-Key: already used for ${previous.route}`, 'Idempotency-Key');
        const advice = request.routeOptions.config.secretReply;
        if (advice)
          throw new HttpError(
            409,
            `Idempotency-Key: the first request with this key succeeded; its answer held a secret that is shown only once and is not kept: ${advice}`,
            'Idempotency-Key',
          );
        return reply.code(previous.statusCode).header('idempotent-replay', 'true').send(previous.response);
      }
      if (previous) await app.prisma.idempotentRequest.deleteMany({ where: { key: scoped } }); // expired
      request.idempotencyKey = scoped;
    });
    app.addHook('onSend', async (request, reply, payload) => {
      if (!request.idempotencyKey || reply.statusCode !== 201 || typeof payload !== 'string') return payload;
      const secret = request.routeOptions.config.secretReply !== undefined;
      await app.prisma.idempotentRequest
        .create({
          data: {
            key: request.idempotencyKey,
            actor: callerOf(request.principal),
            route: `${request.method} ${request.url}`,
            statusCode: reply.statusCode,
            response: secret ? {} : JSON.parse(payload),
          },
        })
        .catch(() => undefined); // a concurrent twin stored it first: the first answer stands
      return payload;
    });
  },
  { name: 'idempotency', dependencies: ['prisma', 'auth'] },
);
