// The HTTP API as a Fastify plugin tree (after fastify/demo): third-party plugins, the app's own
// plugins (database, auth, audit, idempotency, broker), then one module per resource.
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ApiConfig } from './config';
import type { DestinationStream } from 'pino';
import { createLogger } from '../../lib/logger';
import { ErrorBody, installErrorHandling, RETRY_AFTER_SECONDS } from './errors';
import { installLifecycle } from './lifecycle';
import audit from './plugins/audit';
import auth, { type SessionsOf } from './plugins/auth';
import broker from './plugins/broker';
import housekeeping from './plugins/housekeeping';
import idempotency from './plugins/idempotency';
import openapi from './plugins/openapi';
import prisma from './plugins/prisma';
import { InfluxClient } from '../../lib/influx/client';
import { buildInfo } from '../../lib/version';
import alerts from './routes/alerts';
import authRoutes from './routes/auth';
import billing from './routes/billing';
import beneficiaries from './routes/beneficiaries';
import contracts from './routes/contracts';
import imports from './routes/imports';
import installations from './routes/installations';
import gateways from './routes/gateways';
import inverters from './routes/inverters';
import me from './routes/me';
import portal from './portal/routes';
import representatives from './routes/representatives';
import progress from './routes/progress';
import reports from './routes/reports';
import settlements from './routes/settlements';
import { SignInQueue } from './sign-in-queue';
import shares from './routes/shares';
import users from './routes/users';

declare module 'fastify' {
  interface FastifyInstance {
    /** The process's sign-in queue (tests fill it to see what people meet when it is full). */
    signInQueue: SignInQueue;
  }
}

/** `logDestination` is for tests that read what the API logs. */
const HEALTH_TIMEOUT_MS = 2000;
/** Whether a health check answers in time. */
async function answers(check: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), HEALTH_TIMEOUT_MS);
  });
  try {
    await Promise.race([check, late]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export async function buildApp(
  config: ApiConfig,
  options: { logDestination?: DestinationStream } = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: createLogger('api', config.logLevel, options.logDestination) as FastifyBaseLogger,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
    bodyLimit: 1_048_576,
    // Behind a TLS proxy: the client's address and scheme come from X-Forwarded-* of a trusted
    // proxy only (lock-outs and rate limits are per real client; cookies get Secure on https).
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.addHook('onSend', async (request, reply) => {
    if (request.protocol === 'https') reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
  });

  await app.register(swagger, {
    openapi: {
      // 3.1: its schemas are JSON Schema 2020-12, which is what TypeBox writes.
      openapi: '3.1.0',
      info: { title: 'Solar-income platform API', version: '1' },
      servers: [{ url: '/', description: 'the server that serves this document' }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(rateLimit, { global: false });
  await app.register(cookie);
  app.addSchema(ErrorBody);
  installErrorHandling(app);
  installLifecycle(app);
  // Bulk files (imports, settlements) arrive as CSV text; each route sets its own body limit.
  app.addContentTypeParser(
    ['text/csv', 'text/plain'],
    { parseAs: 'string', bodyLimit: 64 * 1024 * 1024 },
    (_request, body, done) => done(null, body),
  );

  await app.register(prisma, { databaseUrl: config.databaseUrl });
  await app.register(broker, { mqttAdmin: config.mqttAdmin });
  await app.register(auth);
  await app.register(openapi);
  await app.register(audit);
  await app.register(idempotency, { ttlHours: config.idempotencyTtlHours });

  await app.register(housekeeping, { idempotencyTtlHours: config.idempotencyTtlHours });
  // One sign-in queue for the API's and the portal's sign-ins: together they share the cores.
  const signIn = {
    lifetimes: config.sessions,
    endSessions: (of: SessionsOf) => app.endSessions(of),
    maxFailures: config.signInMaxFailures,
    lockMinutes: config.signInLockMinutes,
    signInRateLimit: config.signInRateLimit,
    queue: new SignInQueue({ concurrency: config.signInConcurrency, maxWaitMs: config.signInMaxWaitMs }),
  };
  app.decorate('signInQueue', signIn.queue);
  await app.register(authRoutes, signIn);
  await app.register(progress, {
    influx: config.influx,
    progressRefreshSeconds: config.progressRefreshSeconds,
    staleAfterMinutes: config.staleAfterMinutes,
  });
  await app.register(gateways, { influx: config.influx });
  const billingInflux = new InfluxClient(config.billing.influx);
  await app.register(billing, { influx: billingInflux, billing: config.billing });
  await app.register(settlements, { influx: billingInflux, billing: config.billing, alerts: config.alerts });
  await app.register(reports, { report: config.report, lateAfterDays: config.billing.settlements.lateAfterDays });
  for (const routes of [
    installations,
    inverters,
    beneficiaries,
    representatives,
    shares,
    contracts,
    imports,
    me,
    users,
    alerts,
  ])
    await app.register(routes);
  await app.register(portal, { prefix: '/portal', portal: config.portal, ...signIn });

  // Each dependency checked with a short timeout: 503 naming what is away, so a load balancer takes
  // this process out (and retries later) instead of reading a 500 it cannot tell from a bug.
  const healthInflux = new InfluxClient({ ...config.influx, requestTimeoutMs: HEALTH_TIMEOUT_MS });
  app.get('/healthz', { schema: { hide: true } }, async (_request, reply) => {
    const [postgres, influxdb] = await Promise.all([
      answers(app.prisma.$queryRaw`SELECT 1`),
      answers(healthInflux.ping().then((up) => up || Promise.reject(new Error('no pong')))),
    ]);
    const unavailable = [postgres ? null : 'PostgreSQL', influxdb ? null : 'InfluxDB'].filter((d) => d !== null);
    if (unavailable.length > 0) reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS));
    return {
      status: unavailable.length ? 'unavailable' : 'ok',
      unavailable,
      postgres: postgres ? 'ok' : 'unavailable',
      influxdb: influxdb ? 'ok' : 'unavailable',
      ...buildInfo(),
    };
  });
  // Unknown routes are rate-limited so nobody can scan for them cheaply.
  app.setNotFoundHandler({ preHandler: app.rateLimit({ max: 60, timeWindow: '1 minute' }) }, (request, reply) =>
    reply.code(404).send({
      statusCode: 404,
      error: 'Not Found',
      message: `no route ${request.method} ${request.url.split('?')[0]}`,
    }),
  );
  return app;
}
