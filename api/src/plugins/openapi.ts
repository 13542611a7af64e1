// The OpenAPI contract, completed for every route as it is registered, so a route added later is
// documented like the others without anyone remembering to: an operationId derived from method
// and path (unless the route names one), the error responses that follow from how the route is
// built (400 when it validates input, 401/403 behind a guard, 404 with path parameters, 413/415
// with a body schema, 429 when rate-limited), and `security: []` on public routes. A route declares only
// its own errors (`errorResponses(409)`). Summaries are written by hand; test/openapi.test.ts
// fails for a route without one.
import fp from 'fastify-plugin';
import type { RouteOptions } from 'fastify';
import { errorResponses } from '../errors';
import { routeGuards } from './auth';

/** `GET /billing/months/:month/payout.csv` → `getBillingMonthsByMonthPayoutCsv`. */
export function operationIdOf(method: string, url: string): string {
  const words = url
    .split('/')
    .filter(Boolean)
    .flatMap((segment) => (segment.startsWith(':') ? ['by', segment.slice(1)] : segment.split(/[^A-Za-z0-9]+/)))
    .filter(Boolean);
  return [method.toLowerCase(), ...words.map((w) => w[0]!.toUpperCase() + w.slice(1))].join('');
}

const asList = (hooks: unknown) => (Array.isArray(hooks) ? hooks : hooks ? [hooks] : []);
const isGuarded = (route: RouteOptions) =>
  [...asList(route.onRequest), ...asList(route.preHandler)].some((hook) => routeGuards.has(hook));

function standardErrors(route: RouteOptions): number[] {
  const schema = route.schema ?? {};
  const codes: number[] = [];
  if (schema.body || schema.querystring || schema.params || schema.headers) codes.push(400);
  if (isGuarded(route)) codes.push(401, 403);
  if (route.url.includes(':')) codes.push(404);
  if (schema.body) codes.push(413, 415);
  if ((route.config as { rateLimit?: unknown } | undefined)?.rateLimit) codes.push(429);
  return codes;
}

export default fp(
  async (app) => {
    app.addHook('onRoute', (route) => {
      const methods = asList(route.method).map(String);
      // Fastify adds a HEAD twin to every GET; it shares the GET's schema and is not documented.
      if (methods.includes('HEAD') || route.schema?.hide) return;
      const declared = (route.schema?.response ?? {}) as Record<string, unknown>;
      route.schema = {
        ...route.schema,
        operationId: route.schema?.operationId ?? operationIdOf(methods.join(''), route.url),
        response: { ...errorResponses(...standardErrors(route)), ...declared },
        ...(isGuarded(route) ? {} : { security: [] }),
      };
    });
  },
  { name: 'openapi' },
);
