// Who is calling: a bearer token maps to a staff user (with a role) or a beneficiary. Route
// guards: `app.staffOnly(...roles)` and `app.beneficiaryOnly`.
import { TTLCache } from '@isaacs/ttlcache';
import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { Role } from '../../../prisma/generated/client/client';
import { HttpError } from '../errors';
import type { PrismaClient } from '../../../lib/db';
import { tokenHash } from '../../../lib/passwords';

export type Principal =
  | { kind: 'staff'; userId: number; username: string; role: Role }
  | { kind: 'beneficiary'; beneficiaryId: number };

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    // Route `onRequest` guards: they run before the body is parsed and validated.
    staffOnly: (...roles: Role[]) => onRequestAsyncHookHandler;
    beneficiaryOnly: onRequestAsyncHookHandler;
  }
}

export const actorOf = (p: Principal | null) =>
  p === null ? 'anonymous' : p.kind === 'staff' ? `user:${p.username}` : `beneficiary:${p.beneficiaryId}`;

/**
 * Resolved sessions are cached this long. A revocation in this process evicts at once; another
 * API process honours a revoked token at most this long.
 */
export const SESSION_CACHE_MS = 10_000;
const SESSION_CACHE_MAX = 50_000;

/** Resolved sessions by token hash; when full it drops the entry closest to expiry, one at a time. */
export const sessionCache = (max: number) => new TTLCache<string, Principal | null>({ max, ttl: SESSION_CACHE_MS });

/** The route guards, so the OpenAPI document can mark their routes as needing a session (plugins/openapi.ts). */
export const routeGuards = new WeakSet<object>();
const guard = <T extends object>(hook: T): T => {
  routeGuards.add(hook);
  return hook;
};

/** Whose sessions to end: one token, one staff user, or one beneficiary. */
export type SessionsOf = { tokenHash: string } | { userId: number } | { beneficiaryId: number };
type Tx = Pick<PrismaClient, 'session'>;

const belongs = (principal: Principal | null, of: SessionsOf) =>
  principal !== null &&
  (('userId' in of && principal.kind === 'staff' && principal.userId === of.userId) ||
    ('beneficiaryId' in of && principal.kind === 'beneficiary' && principal.beneficiaryId === of.beneficiaryId));

declare module 'fastify' {
  interface FastifyInstance {
    /** Deletes the sessions (in `tx` when given) and evicts them from this process's cache. */
    endSessions: (of: SessionsOf, tx?: Tx) => Promise<void>;
  }
}

export default fp(
  async (app) => {
    const cache = sessionCache(SESSION_CACHE_MAX);
    app.decorate('endSessions', async (of: SessionsOf, tx?: Tx) => {
      await (tx ?? app.prisma).session.deleteMany({ where: of });
      if ('tokenHash' in of) cache.delete(of.tokenHash);
      else for (const [hash, principal] of cache.entries()) if (belongs(principal, of)) cache.delete(hash);
    });

    // On every uncached request: one plain query rather than the query builder.
    async function resolve(hash: string): Promise<Principal | null> {
      const {
        rows: [row],
      } = await app.sql.query<{
        userId: number | null;
        username: string | null;
        role: Role | null;
        beneficiaryId: number | null;
      }>({
        name: 'resolve-session',
        // A disabled user or a beneficiary who left is refused even if a session row survived.
        text: `SELECT u.id AS "userId", u.username, u.role::text AS role, b.id AS "beneficiaryId"
             FROM sessions s
             LEFT JOIN users u ON u.id = s.user_id AND u.disabled_at IS NULL
             LEFT JOIN beneficiaries b ON b.id = s.beneficiary_id AND b.status <> 'EXITED'
             WHERE s.token_hash = $1 AND s.expires_at > now()`,
        values: [hash],
      });
      if (!row) return null;
      if (row.userId !== null) return { kind: 'staff', userId: row.userId, username: row.username!, role: row.role! };
      return row.beneficiaryId !== null ? { kind: 'beneficiary', beneficiaryId: row.beneficiaryId } : null;
    }

    app.decorateRequest('principal', null);
    app.addHook('onRequest', async (request: FastifyRequest) => {
      const header = request.headers.authorization;
      if (!header?.startsWith('Bearer ')) return;
      const hash = tokenHash(header.slice(7).trim());
      const cached = cache.get(hash);
      if (cached !== undefined) {
        request.principal = cached;
        return;
      }
      const principal = await resolve(hash);
      // Jittered lifetimes: sessions cached together must not all expire (and hit the database) together.
      cache.set(hash, principal, { ttl: Math.round(SESSION_CACHE_MS * (0.5 + Math.random() / 2)) });
      request.principal = principal;
    });

    const requireSignedIn = (request: FastifyRequest) => {
      if (!request.principal) throw new HttpError(401, 'sign in first: send Authorization: Bearer <token>');
      return request.principal;
    };
    app.decorate('staffOnly', (...roles: Role[]) =>
      guard(async (request: FastifyRequest, _reply: FastifyReply) => {
        const principal = requireSignedIn(request);
        if (principal.kind !== 'staff' || (principal.role !== 'ADMIN' && !roles.includes(principal.role))) {
          throw new HttpError(403, `this needs one of the roles ${['ADMIN', ...roles].join(', ')}`);
        }
      }),
    );
    app.decorate(
      'beneficiaryOnly',
      guard(async (request: FastifyRequest) => {
        if (requireSignedIn(request).kind !== 'beneficiary')
          throw new HttpError(403, 'this is for beneficiaries signed in with their national code');
      }),
    );
  },
  { name: 'auth', dependencies: ['prisma'] },
);
