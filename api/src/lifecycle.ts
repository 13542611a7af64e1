// An API process's life as the proxy in front of it sees it (docs/upgrade.md, rolling restart): it
// opens its port only once warm, and when asked to stop it first drains: /readyz says not ready,
// every answer closes its connection (so the proxy keeps no idle connection to a process about to
// close, and never sends a request on one as it closes), and only then does it stop accepting,
// finish what is in flight and exit. The proxy retries a refused connection on the other process.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { tokenHash } from '../../lib/passwords';
import { monthOf } from '../../lib/program/solar-hijri';
import { RETRY_AFTER_SECONDS } from './errors';
import { PORTAL_COOKIE } from './plugins/auth';

export type Phase = 'warming' | 'ready' | 'draining';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Where this process is in its life: set by server.ts, read by /readyz and every answer; and
     * what components add to the warm-up.
     */
    lifecycle: { phase: Phase; warmers: Warmer[] };
  }
}

/**
 * Work a component adds to the warm-up: reads on `sql` (the pool, or one of its connections) that
 * write nothing and find nobody's data, and pages rendered from a sample. Returns the pages rendered.
 */
export type Warmer = (sql: Pick<pg.Pool, 'query'>) => Promise<number>;

/** GET /readyz and the closing of connections while draining. */
export function installLifecycle(app: FastifyInstance): void {
  app.decorate('lifecycle', { phase: 'warming' as Phase, warmers: [] as Warmer[] });
  app.addHook('onSend', async (_request, reply) => {
    if (app.lifecycle.phase === 'draining') reply.header('connection', 'close');
  });
  // Readiness, not health: whether this process should be given traffic now. /healthz says whether
  // its dependencies answer.
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const { phase } = app.lifecycle;
    if (phase !== 'ready') reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS));
    return { status: phase };
  });
}

export interface WarmUpReport {
  ms: number;
  /** In-process requests answered. */
  requests: number;
  /** Pages the warmers rendered from their samples. */
  pages: number;
  /** Connections of the plain pool opened (its working size), each with the warmers' statements prepared. */
  connections: number;
  /** Why the warmers' reads failed (PostgreSQL away): the process starts anyway, colder. */
  failed?: string;
}

/**
 * The requests a beneficiary's and an operator's first visits make, answered in-process until the
 * code they run is compiled, their schemas' serializers built and the database pools opened: a
 * process that opens its port cold answers its first seconds of traffic many times slower (the
 * portal's p99 was 84 ms in its first 20 s against 7.6 ms warm; a signed-in statement page at 500
 * requests/s collapsed to seconds). Signed-in pages are warmed without a session or anyone's data:
 * each is asked for with a token that matches no session (the session lookup runs, finds none and
 * the page sends to sign-in; the token is forgotten at once), and the warmers run their pages'
 * reads for nobody and render them from a sample.
 */
export async function warmUp(app: FastifyInstance, rounds: number): Promise<WarmUpReport> {
  const started = performance.now();
  const report: Omit<WarmUpReport, 'ms'> = { requests: 0, pages: 0, connections: 0 };
  const warm = async (sql: Pick<pg.Pool, 'query'>) => {
    for (const warmer of app.lifecycle.warmers) {
      const pages = await warmer(sql);
      report.pages += pages;
    }
  };
  const failed = (error: Error) => {
    report.failed ??= error.message;
  };
  if (rounds > 0) {
    // Under load from its first request every connection of the pool is in use: all are opened
    // now, each with the pages' statements prepared (a prepared statement is per connection).
    const clients = await Promise.all(
      Array.from({ length: app.sql.options.max ?? 10 }, () => app.sql.connect().catch(failed)),
    );
    const opened = clients.filter((c): c is pg.PoolClient => c !== undefined);
    report.connections = opened.length;
    await Promise.all(opened.map((c) => warm(oneAtATime(c)).catch(failed))).finally(() => {
      for (const c of opened) c.release();
    });
  }
  // No /healthz: with a dependency away each would wait for its timeout, and start-up with it.
  const paths = ['/portal', '/portal/help', '/portal/home', '/billing/months', '/me/statements'];
  const month = monthOf(Date.now());
  const signedIn = ['/portal/home', `/portal/months/${month}`, `/portal/months/${month}/print`, '/portal/help'];
  const get = (url: string, cookies?: Record<string, string>) =>
    app.inject({ method: 'GET', url, remoteAddress: '127.0.0.1', cookies });
  for (let round = 0; round < rounds; round++) {
    const tokens = signedIn.map(() => randomBytes(24).toString('base64url'));
    await Promise.all([
      ...paths.map((url) => get(url)),
      ...signedIn.map((url, i) => get(url, { [PORTAL_COOKIE]: tokens[i]! })),
      warm(app.sql).catch(failed),
    ]);
    for (const token of tokens) app.forgetSession(tokenHash(token));
    report.requests += paths.length + signedIn.length;
  }
  return { ms: performance.now() - started, ...report };
}

/** A connection whose queries run one after another: pg's queueing of a client's concurrent ones is deprecated. */
function oneAtATime(client: pg.PoolClient): Pick<pg.Pool, 'query'> {
  let last: Promise<unknown> = Promise.resolve();
  const query = (...args: unknown[]) => {
    const next = last.then(() => (client.query as (...a: unknown[]) => Promise<unknown>)(...args));
    last = next.catch(() => undefined);
    return next;
  };
  return { query: query as unknown as pg.Pool['query'] };
}

/** Drains for `drainMs` (see the top of this file), then closes: in-flight requests finish first. */
export async function drainAndClose(app: FastifyInstance, drainMs: number): Promise<void> {
  app.lifecycle.phase = 'draining';
  app.log.info(`draining: not ready, closing each connection after its answer; closing in ${drainMs} ms`);
  await new Promise((resolve) => setTimeout(resolve, drainMs));
  await app.close();
}
