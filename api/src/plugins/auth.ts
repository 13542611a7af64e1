// Who is calling: a bearer token maps to a staff user (with a role) or a beneficiary. Route
// guards: `app.staffOnly(...roles)` and `app.beneficiaryOnly`. The portal's cookie is resolved
// into `request.portal` only, never into `request.principal`: a portal cookie cannot call the API's
// routes, and a staff session in the portal's cookie is no portal session.
import { TTLCache } from '@isaacs/ttlcache';
import fp from 'fastify-plugin';
import pg from 'pg';
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { Role } from '../../../prisma/generated/client/client';
import { HttpError } from '../errors';
import { type Actor, beneficiaryActor, staffActor } from '../../../lib/audit';
import type { PrismaClient } from '../../../lib/db';
import { tokenHash } from '../../../lib/passwords';

export type Principal =
  | { kind: 'staff'; userId: number; username: string; role: Role }
  | { kind: 'beneficiary'; beneficiaryId: number };

/** A portal session: who signed in and whose income they are looking at (null: not chosen yet). */
export interface PortalSession {
  token: string;
  beneficiaryId: number | null;
  representativeId: number | null;
  viewing: number | null;
}
export const PORTAL_COOKIE = 'portal_session';
/**
 * The portal's session cookie: a remembered session's lasts as long as the session, any other's
 * until the browser closes (the session itself ends on the server after API_SESSION_TTL_MINUTES).
 */
export const portalCookie = (request: FastifyRequest, expires?: Date) => ({
  path: '/portal',
  httpOnly: true,
  sameSite: 'lax' as const,
  secure: request.protocol === 'https',
  ...(expires ? { expires } : {}),
});

export interface SessionRow {
  /** A portal cookie's session (never a bearer token), or a bearer token's (never the portal's cookie). */
  portal: boolean;
  /** A remembered portal session whose end is due to move on (it was last moved a day or more ago). */
  renewDue: boolean;
  userId: number | null;
  username: string | null;
  role: Role | null;
  beneficiaryId: number | null;
  representativeId: number | null;
  actingForId: number | null;
  /** The representation behind acting_for_id still exists (or it is the person themself). */
  actingAllowed: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    portal: PortalSession | null;
  }
  interface FastifyInstance {
    // Route `onRequest` guards: they run before the body is parsed and validated.
    staffOnly: (...roles: Role[]) => onRequestAsyncHookHandler;
    beneficiaryOnly: onRequestAsyncHookHandler;
  }
}

/** Whoever is signed in, as the audit log names them; an audited action always has a signed-in caller. */
export function actorOf(p: Principal | null): Actor {
  if (p === null) throw new HttpError(401, 'sign in first');
  return p.kind === 'staff' ? staffActor(p.username) : beneficiaryActor(p.beneficiaryId);
}

/**
 * Resolved sessions are cached this long. A revocation evicts at once in this process, and in every
 * other API process through PostgreSQL's `sessions_changed` notification (triggers on sessions,
 * users, beneficiaries and representations); this bound holds only while a process's listener is
 * down (it reconnects, and empties its cache when it does).
 */
export const SESSION_CACHE_MS = 10_000;
const SESSION_CACHE_MAX = 50_000;

/**
 * How long a resolved session stays cached: jittered, so sessions cached together do not all expire
 * (and hit the database) together, and ending on a step of EXPIRY_STEP_MS. The cache keeps a list
 * per distinct expiry instant and walks all of them each time it purges one (@isaacs/ttlcache
 * 2.1): a process just restarted caches every active session within seconds, and with expiries to
 * the millisecond its purges cost 0.7 s of CPU for 2,000 sessions, 2.3 s for 6,000, against 0.13
 * and 0.34 s in steps (41 instants at most). `now` is the cache's clock, performance.now().
 */
export function cacheLifetimeMs(now = performance.now()): number {
  const expires = Math.ceil((now + SESSION_CACHE_MS * (0.5 + Math.random() / 2)) / EXPIRY_STEP_MS) * EXPIRY_STEP_MS;
  return Math.ceil(expires - now);
}
const EXPIRY_STEP_MS = 250;

/** Resolved sessions by token hash; when full it drops the entry closest to expiry, one at a time. */
export const sessionCache = <V>(max: number) => new TTLCache<string, V | null>({ max, ttl: SESSION_CACHE_MS });

/** The route guards, so the OpenAPI document can mark their routes as needing a session (plugins/openapi.ts). */
export const routeGuards = new WeakSet<object>();
const guard = <T extends object>(hook: T): T => {
  routeGuards.add(hook);
  return hook;
};

/** Whose sessions to end: one token, one staff user, one beneficiary, or one representative. */
export type SessionsOf =
  | { tokenHash: string }
  | { userId: number }
  | { beneficiaryId: number }
  | { representativeId: number };
type Tx = Pick<PrismaClient, 'session'>;

const belongs = (row: SessionRow | null, of: SessionsOf) =>
  row !== null &&
  (('userId' in of && row.userId === of.userId) ||
    ('beneficiaryId' in of && row.beneficiaryId === of.beneficiaryId) ||
    ('representativeId' in of && row.representativeId === of.representativeId));

declare module 'fastify' {
  interface FastifyInstance {
    /** Deletes the sessions (in `tx` when given) and evicts them from this process's cache. */
    endSessions: (of: SessionsOf, tx?: Tx) => Promise<void>;
    /** Drops a session (by token hash) from this process's cache after its row changed. */
    forgetSession: (tokenHash: string) => void;
  }
}

export default fp(
  async (app) => {
    const cache = sessionCache<SessionRow>(SESSION_CACHE_MAX);
    app.decorate('endSessions', async (of: SessionsOf, tx?: Tx) => {
      await (tx ?? app.prisma).session.deleteMany({ where: of });
      if ('tokenHash' in of) cache.delete(of.tokenHash);
      else for (const [hash, row] of cache.entries()) if (belongs(row, of)) cache.delete(hash);
    });
    app.decorate('forgetSession', (hash: string) => {
      cache.delete(hash);
    });

    // Revocations made by any process (or by SQL) evict this process's cache at once.
    let listener: pg.Client | null = null;
    let closed = false;
    const listen = async (): Promise<void> => {
      if (closed) return;
      const client = new pg.Client({ connectionString: app.sql.options.connectionString });
      const retry = () => {
        listener = null;
        cache.clear(); // notifications may have been missed meanwhile
        if (!closed) setTimeout(() => void listen(), 1000).unref();
      };
      client.on('notification', () => cache.clear());
      client.on('error', (error) => {
        app.log.warn({ err: error }, 'session revocation listener lost; reconnecting');
        retry();
      });
      try {
        await client.connect();
        await client.query('LISTEN sessions_changed');
        listener = client;
        cache.clear();
      } catch (error) {
        app.log.warn({ err: error }, 'cannot listen for session revocations yet; retrying');
        await client.end().catch(() => undefined);
        retry();
      }
    };
    app.addHook('onReady', listen);
    app.addHook('onClose', async () => {
      closed = true;
      await listener?.end().catch(() => undefined);
    });

    // On every uncached request: one plain query rather than the query builder. A person is read
    // through the registry's view (beneficiary_profiles), joined in this one statement.
    async function resolve(hash: string): Promise<SessionRow | null> {
      const { rows } = await app.sql.query<SessionRow>({
        name: 'resolve-session',
        // A disabled user or a beneficiary who left is refused even if a session row survived.
        text: `SELECT s.portal, (s.sliding_days IS NOT NULL AND s.expires_at < s.renew_until
                 AND s.expires_at < now() AT TIME ZONE 'UTC' + make_interval(days => s.sliding_days - 1)) AS "renewDue",
                 u.id AS "userId", u.username, u.role::text AS role, b.id AS "beneficiaryId",
                 s.representative_id AS "representativeId", s.acting_for_id AS "actingForId",
                 (s.acting_for_id IS NULL OR s.acting_for_id = b.id OR EXISTS (SELECT 1 FROM representations r
                   JOIN beneficiary_profiles rb ON rb.id = r.beneficiary_id AND rb.in_program
                   WHERE r.representative_id = s.representative_id AND r.beneficiary_id = s.acting_for_id)) AS "actingAllowed"
             FROM sessions s
             LEFT JOIN users u ON u.id = s.user_id AND u.disabled_at IS NULL
             LEFT JOIN beneficiary_profiles b ON b.id = s.beneficiary_id AND b.in_program
             WHERE s.token_hash = $1 AND s.expires_at > now()`,
        values: [hash],
      });
      return rows[0] ?? null;
    }
    // A remembered session in use: its end moves `sliding_days` on, never past `renew_until`. Not a
    // revocation: it notifies nobody (the trigger ignores expires_at), and cached rows stay right.
    async function renew(hash: string): Promise<Date | null> {
      const { rows } = await app.sql.query<{ expires: number }>({
        name: 'renew-session',
        text: `UPDATE sessions SET expires_at = LEAST(now() AT TIME ZONE 'UTC' + make_interval(days => sliding_days), renew_until)
               WHERE token_hash = $1 AND sliding_days IS NOT NULL AND expires_at > now() AT TIME ZONE 'UTC'
               RETURNING extract(epoch FROM expires_at)::float8 AS expires`,
        values: [hash],
      });
      return rows[0] ? new Date(rows[0].expires * 1000) : null;
    }
    async function cachedRow(token: string): Promise<SessionRow | null> {
      const hash = tokenHash(token);
      const cached = cache.get(hash);
      if (cached !== undefined) return cached;
      const row = await resolve(hash);
      cache.set(hash, row, { ttl: cacheLifetimeMs() });
      return row;
    }

    app.decorateRequest('principal', null);
    app.decorateRequest('portal', null);
    app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      const header = request.headers.authorization;
      if (header?.startsWith('Bearer ')) {
        const found = await cachedRow(header.slice(7).trim());
        const row = found?.portal ? null : found; // a portal cookie's session is no bearer token
        if (row?.userId != null) {
          request.principal = { kind: 'staff', userId: row.userId, username: row.username!, role: row.role! };
        } else if (row?.beneficiaryId != null) {
          request.principal = { kind: 'beneficiary', beneficiaryId: row.beneficiaryId };
        }
        return;
      }
      const cookie = request.cookies?.[PORTAL_COOKIE];
      if (!cookie || !request.url.startsWith('/portal')) return;
      const row = await cachedRow(cookie);
      if (!row?.portal || row.userId !== null || (row.beneficiaryId === null && row.representativeId === null)) return;
      if (row.renewDue) {
        row.renewDue = false; // the cached row: renewed at most once a day, by one request
        const expires = await renew(tokenHash(cookie));
        if (expires) reply.setCookie(PORTAL_COOKIE, cookie, portalCookie(request, expires));
      }
      request.portal = {
        token: cookie,
        beneficiaryId: row.beneficiaryId,
        representativeId: row.representativeId,
        viewing: row.actingForId === null ? row.beneficiaryId : row.actingAllowed ? row.actingForId : null,
      };
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
