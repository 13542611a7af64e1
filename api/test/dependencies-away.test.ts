// Drill: PostgreSQL stopped, then crashed (kill -9), then InfluxDB stopped, under the API. A load
// balancer or client must be able to tell "a dependency is away, retry" from a bug: every route
// that needs the missing database answers 503 with Retry-After naming it (never 500, never a stack
// or a secret), /healthz is 503 naming it, what does not need it keeps working, and the API
// recovers by itself.
import type { FastifyInstance } from 'fastify';
import type { OpenAPIV3_1 } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monthOf } from '../../lib/program/solar-hijri';
import { bearer, staffToken, testApp } from '../../testing/api';
import { service } from '../../testing/drills';
import { databaseUrl, registerFleet, waitFor } from '../../testing/services';

let app: FastifyInstance;
let admin: string;
let getPaths: string[];
const logged: string[] = [];

beforeAll(async () => {
  app = await testApp({ LOG_LEVEL: 'warn' }, { write: (line: string) => logged.push(line) } as never);
  admin = await staffToken(app, `away-admin-${process.pid}`, 'ADMIN');
  await registerFleet(`AWAY${process.pid}-`, 1); // something for billing to read counters of
  const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as OpenAPIV3_1.Document;
  getPaths = Object.entries(doc.paths ?? {})
    .filter(([, item]) => item?.get)
    .map(([path]) => path.replace('{month}', '1405-08').replace(/\{[^}]+\}/g, '1'));
});
afterAll(async () => {
  await service('start', 'postgres');
  await service('start', 'influxdb');
  await app?.close();
});

const get = (url: string) => app.inject({ method: 'GET', url, headers: bearer(admin) });
const secret = new URL(databaseUrl()).password;

/** A refusal a client can act on: 503, Retry-After, the dependency named, nothing internal. */
function expectAway(response: Awaited<ReturnType<typeof get>>, dependency: string, what: string) {
  expect(response.statusCode, `${what}: ${response.body}`).toBe(503);
  expect(response.headers['retry-after'], what).toBe('5');
  expect(response.json(), what).toEqual({
    statusCode: 503,
    error: 'Service Unavailable',
    message: `${dependency} is unavailable right now; try again shortly`,
  });
}

/** Connections in the pools: the server closing them must not bring the process down. */
async function warmPools() {
  for (const url of ['/installations', '/billing/months', '/alerts']) expect((await get(url)).statusCode).toBe(200);
}

/** Every GET route with PostgreSQL away: never 500, nothing internal, most of them 503 naming it. */
async function everyGetRouteWithPostgresAway(how: string) {
  const answers: Record<number, number> = {};
  for (const url of getPaths) {
    const response = await get(url);
    answers[response.statusCode] = (answers[response.statusCode] ?? 0) + 1;
    expect(response.statusCode, `GET ${url}: ${response.body}`).not.toBe(500);
    expect(response.body, url).not.toMatch(/\n\s+at |node_modules|ECONNREFUSED|ECONNRESET/);
    if (secret) expect(response.body, url).not.toContain(secret);
    if (response.statusCode === 503) expectAway(response, 'PostgreSQL', `GET ${url}`);
  }
  console.log(`${getPaths.length} GET routes with PostgreSQL ${how}:`, JSON.stringify(answers));
  expect(answers[503]).toBeGreaterThan(getPaths.length / 2);
}

/** Back by itself once PostgreSQL is: answering, healthy, and no request logged as a failure (a 500). */
async function expectRecovered() {
  await waitFor(
    'the API to answer again',
    async () => (await get('/installations')).statusCode,
    (code) => code === 200,
    30_000,
  );
  expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toMatchObject({ status: 'ok' });
  expect(logged.filter((l) => /"request failed"/.test(l))).toEqual([]);
}

describe('drill: a database away under the API', () => {
  it('answers 503 with Retry-After naming PostgreSQL on every route while it is stopped, and recovers by itself', async () => {
    await warmPools();
    await service('stop', 'postgres');
    try {
      await everyGetRouteWithPostgresAway('stopped');
      // A new session needs the database, a cached one does not: a sign-in is refused the same way.
      const signIn = await app.inject({
        method: 'POST',
        url: '/auth/staff/sign-in',
        payload: { username: 'nobody-while-away', password: 'long-enough-password' },
      });
      expectAway(signIn, 'PostgreSQL', 'sign-in');
      const health = await app.inject({ method: 'GET', url: '/healthz' });
      expect(health.statusCode).toBe(503);
      expect(health.headers['retry-after']).toBe('5');
      expect(health.json()).toMatchObject({
        status: 'unavailable',
        unavailable: ['PostgreSQL'],
        postgres: 'unavailable',
        influxdb: 'ok',
      });
    } finally {
      await service('start', 'postgres');
    }
    await expectRecovered();
  });

  it('answers 503, never 500, when PostgreSQL crashes (kill -9) under warm connections, and recovers by itself', async () => {
    // A crash closes the pools' connections without the "terminating connection" a shutdown sends.
    await warmPools();
    await service('kill', 'postgres');
    try {
      await everyGetRouteWithPostgresAway('killed');
      const health = await app.inject({ method: 'GET', url: '/healthz' });
      expect(health.statusCode).toBe(503);
      expect(health.json()).toMatchObject({ status: 'unavailable', unavailable: ['PostgreSQL'] });
    } finally {
      await service('start', 'postgres'); // recovers from its WAL
    }
    await expectRecovered();
  });

  it('answers 503 naming InfluxDB where it is needed, degrades where it is not, and /healthz names it', async () => {
    await service('stop', 'influxdb');
    try {
      // A billing run reads the counters: refused, and nothing written.
      const month = monthOf(Date.now());
      const before = (await get(`/billing/months/${month}`)).body;
      const run = await app.inject({ method: 'POST', url: `/billing/months/${month}/draft`, headers: bearer(admin) });
      expectAway(run, 'InfluxDB', 'billing draft');
      expect((await get(`/billing/months/${month}`)).body).toBe(before);
      // Progress: MW and people come from PostgreSQL; who is silent is unknown, not "everyone".
      const progress = await get('/progress?fresh=true');
      expect(progress.statusCode).toBe(200);
      expect(progress.json().freshness).toMatchObject({
        telemetryAvailable: false,
        silentWhileSunUp: null,
        silentSerials: [],
      });
      expect((await get('/installations')).statusCode).toBe(200);
      const health = await app.inject({ method: 'GET', url: '/healthz' });
      expect(health.statusCode).toBe(503);
      expect(health.json()).toMatchObject({
        status: 'unavailable',
        unavailable: ['InfluxDB'],
        postgres: 'ok',
        influxdb: 'unavailable',
      });
    } finally {
      await service('start', 'influxdb');
    }
    await waitFor(
      'progress to read InfluxDB again',
      async () => (await get('/progress?fresh=true')).json().freshness.telemetryAvailable,
      (available) => available === true,
      30_000,
    );
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});
