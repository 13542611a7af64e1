// An API process's life as the proxy in front of it sees it (docs/upgrade.md, rolling restart): it
// opens its port only once warm, and when asked to stop it first drains: /readyz says not ready,
// every answer closes its connection (so the proxy keeps no idle connection to a process about to
// close, and never sends a request on one as it closes), and only then does it stop accepting,
// finish what is in flight and exit. The proxy retries a refused connection on the other process.
import type { FastifyInstance } from 'fastify';
import { RETRY_AFTER_SECONDS } from './errors';

export type Phase = 'warming' | 'ready' | 'draining';

declare module 'fastify' {
  interface FastifyInstance {
    /** Where this process is in its life: set by server.ts, read by /readyz and every answer. */
    lifecycle: { phase: Phase };
  }
}

/** GET /readyz and the closing of connections while draining. */
export function installLifecycle(app: FastifyInstance): void {
  app.decorate('lifecycle', { phase: 'warming' as Phase });
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

/**
 * The requests a beneficiary's and an operator's first visits make, answered in-process until the
 * code they run is compiled, their schemas' serializers built and the database pools opened: a
 * process that opens its port cold answers its first seconds of traffic many times slower (the
 * portal's p99 was 84 ms in its first 20 s against 7.6 ms warm). Returns how long it took.
 */
export async function warmUp(app: FastifyInstance, rounds: number): Promise<number> {
  const started = performance.now();
  // No /healthz: with a dependency away each would wait for its timeout, and start-up with it.
  const paths = ['/portal', '/portal/help', '/portal/home', '/billing/months', '/me/statements'];
  for (let round = 0; round < rounds; round++)
    await Promise.all(paths.map((url) => app.inject({ method: 'GET', url, remoteAddress: '127.0.0.1' })));
  return performance.now() - started;
}

/** Drains for `drainMs` (see the top of this file), then closes: in-flight requests finish first. */
export async function drainAndClose(app: FastifyInstance, drainMs: number): Promise<void> {
  app.lifecycle.phase = 'draining';
  app.log.info(`draining: not ready, closing each connection after its answer; closing in ${drainMs} ms`);
  await new Promise((resolve) => setTimeout(resolve, drainMs));
  await app.close();
}
