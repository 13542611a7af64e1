// Who is calling: a bearer token maps to a staff user (with a role) or a beneficiary. Route
// guards: `app.staffOnly(...roles)` and `app.beneficiaryOnly`.
import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { Role } from '../../../prisma/generated/client/client';
import { HttpError } from '../errors';
import { tokenHash } from '../passwords';

export type Principal =
  | { kind: 'staff'; userId: number; username: string; role: Role }
  | { kind: 'beneficiary'; beneficiaryId: number };

declare module 'fastify' {
  interface FastifyRequest { principal: Principal | null }
  interface FastifyInstance {
    // Route `onRequest` guards: they run before the body is parsed and validated.
    staffOnly: (...roles: Role[]) => onRequestAsyncHookHandler;
    beneficiaryOnly: onRequestAsyncHookHandler;
  }
}

export const actorOf = (p: Principal | null) => (p === null ? 'anonymous' : p.kind === 'staff' ? `user:${p.username}` : `beneficiary:${p.beneficiaryId}`);

export default fp(async (app) => {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const header = request.headers.authorization;
    if (!header?.startsWith('Bearer ')) return;
    const session = await app.prisma.session.findUnique({ where: { tokenHash: tokenHash(header.slice(7).trim()) } });
    if (!session || session.expiresAt < new Date()) return;
    if (session.userId !== null) {
      const user = await app.prisma.user.findUnique({ where: { id: session.userId } });
      if (user) request.principal = { kind: 'staff', userId: user.id, username: user.username, role: user.role };
    } else if (session.beneficiaryId !== null) {
      request.principal = { kind: 'beneficiary', beneficiaryId: session.beneficiaryId };
    }
  });

  const requireSignedIn = (request: FastifyRequest) => {
    if (!request.principal) throw new HttpError(401, 'sign in first: send Authorization: Bearer <token>');
    return request.principal;
  };
  app.decorate('staffOnly', (...roles: Role[]) => async (request: FastifyRequest, _reply: FastifyReply) => {
    const principal = requireSignedIn(request);
    if (principal.kind !== 'staff' || (principal.role !== 'ADMIN' && !roles.includes(principal.role))) {
      throw new HttpError(403, `this needs one of the roles ${['ADMIN', ...roles].join(', ')}`);
    }
  });
  app.decorate('beneficiaryOnly', async (request: FastifyRequest) => {
    if (requireSignedIn(request).kind !== 'beneficiary') throw new HttpError(403, 'this is for beneficiaries signed in with their national code');
  });
}, { name: 'auth', dependencies: ['prisma'] });
