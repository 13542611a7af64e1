// No user input gives a 5xx: every operation of the OpenAPI document, and every portal form, is
// sent seeded random input (random bytes, long and mixed-script strings, huge numbers, wrong types,
// bad dates, oversized bodies) as an ADMIN, as a beneficiary and anonymously; no answer may be 500
// or above and nothing may be logged at error level. Bounded: a few cases per operation, one seed
// (FUZZ_SEED to try another, FUZZ_CASES for more cases).
import type { FastifyInstance, InjectOptions } from 'fastify';
import type { OpenAPIV3_1 } from 'openapi-types';
import type { DestinationStream } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nationalCodeFor, shebaFor } from '../../lib/identifiers/validate';
import { bearer, staffToken, testApp } from '../../testing/api';
import { freshPgDatabase } from '../../testing/services';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_205);
const CASES = Number(process.env.FUZZ_CASES ?? 4);

/** mulberry32: small, seeded, reproducible. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
const random = prng(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const randomBytes = (n: number) =>
  String.fromCharCode(...Array.from({ length: n }, () => Math.floor(random() * 0xffff))).replace(
    /[\ud800-\udfff]/g,
    '?',
  );

const STRINGS = [
  '',
  ' ',
  '\u0000',
  'é'.repeat(43),
  'ا۱٢abc😀\u202e\u200f',
  '۱۴۰۵-۰۸',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '../../etc/passwd',
  '%00%ff',
  'x'.repeat(10_000),
  '2024-02-31',
  '9999-99-99',
  '1405-13',
  'IR000000000000000000000000',
  '-1',
  '1e309',
  '99999999999999999999999999',
];
const NUMBERS = [0, -1, 1.5, 2 ** 31, 2 ** 53 + 1, 1e308, -1e308, Number.MAX_SAFE_INTEGER];
function nastyValue(depth = 0): unknown {
  switch (Math.floor(random() * 8)) {
    case 0:
      return pick(STRINGS);
    case 1:
      return randomBytes(1 + Math.floor(random() * 200));
    case 2:
      return pick(NUMBERS);
    case 3:
      return pick([true, false, null]);
    case 4:
      return depth < 3 ? [nastyValue(depth + 1), nastyValue(depth + 1)] : [];
    case 5:
      return depth < 3 ? { [pick(STRINGS).slice(0, 20)]: nastyValue(depth + 1) } : {};
    case 6:
      return pick(['1405-08', '2026-11-05', '1', 'ADMIN', 'yazd', 'OTHER', '12345678901234']);
    default:
      return pick(STRINGS) + randomBytes(5);
  }
}
/** A body shaped like the schema (its properties, wrong in random ways), or not shaped at all. */
function nastyBody(schema: OpenAPIV3_1.SchemaObject | undefined): unknown {
  if (random() < 0.25 || !schema?.properties) return nastyValue();
  const body: Record<string, unknown> = {};
  for (const name of Object.keys(schema.properties)) if (random() < 0.8) body[name] = nastyValue();
  return body;
}
const PATH_VALUES = [
  '1',
  '0',
  '-1',
  '2147483648',
  '99999999999999999999',
  '%00',
  '%E2%80%AE',
  encodeURIComponent('é'.repeat(60)),
  '1405-13',
  '1405-08',
  '..%2F..',
  encodeURIComponent(randomBytes(30)),
  'x'.repeat(2000),
];

type Operation = { method: string; path: string; op: OpenAPIV3_1.OperationObject };
function requestFor({ method, path, op }: Operation): InjectOptions {
  const url = path.replace(/\{[^}]+\}/g, () => pick(PATH_VALUES));
  const query = ((op.parameters ?? []) as OpenAPIV3_1.ParameterObject[])
    .filter((p) => p.in === 'query' && random() < 0.7)
    .map((p) => `${encodeURIComponent(p.name)}=${encodeURIComponent(String(nastyValue()))}`);
  const options: InjectOptions = { method: method.toUpperCase() as InjectOptions['method'], url };
  if (query.length > 0) options.url = `${url}?${query.join('&')}`;
  if (method === 'get' || method === 'delete') return options;
  const content = (op.requestBody as OpenAPIV3_1.RequestBodyObject | undefined)?.content ?? {};
  const roll = random();
  if (roll < 0.1) return { ...options, headers: { 'content-type': 'application/json' }, payload: '{"a":' };
  if (roll < 0.15)
    return { ...options, headers: { 'content-type': 'application/json' }, payload: 'x'.repeat(3_000_000) };
  if (roll < 0.25) return { ...options, headers: { 'content-type': 'text/csv' }, payload: randomBytes(500) };
  if (roll < 0.3)
    return { ...options, headers: { 'content-type': 'application/octet-stream' }, payload: randomBytes(100) };
  const schema = content['application/json']?.schema as OpenAPIV3_1.SchemaObject | undefined;
  return { ...options, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(nastyBody(schema)) };
}

const errorLines: string[] = [];
const sink: DestinationStream = {
  write: (line: string) => {
    if (JSON.parse(line).level >= 50) errorLines.push(line.slice(0, 2000));
  },
};
let app: FastifyInstance;
let databaseUrl: string;
const who: Record<string, () => Promise<Record<string, string>>> = {};

beforeAll(async () => {
  databaseUrl = await freshPgDatabase('fuzz_test');
  app = await testApp(
    { LOG_LEVEL: 'info', DATABASE_URL: databaseUrl, API_SIGN_IN_RATE_LIMIT: '10000', API_SIGN_IN_MAX_FAILURES: '100' },
    sink,
  );
  who.ADMIN = async () => bearer(await staffToken(app, 'fuzz-admin', 'ADMIN', databaseUrl));
  const operator = bearer(await staffToken(app, 'fuzz-operator', 'OPERATOR', databaseUrl));
  const nationalCode = nationalCodeFor(920_000);
  const created = await app.inject({
    method: 'POST',
    url: '/beneficiaries',
    headers: operator,
    payload: {
      nationalCode,
      fullName: 'Fuzz Person',
      sheba: shebaFor(920_000),
      province: 'yazd',
      targetGroup: 'OTHER',
    },
  });
  expect(created.statusCode, created.body).toBe(201);
  await app.inject({
    method: 'PUT',
    url: `/beneficiaries/${created.json().id}/pin`,
    headers: operator,
    payload: { pin: '482915' },
  });
  who.beneficiary = async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/auth/beneficiary/sign-in',
      payload: { nationalCode, pin: '482915' },
    });
    return bearer(r.json().token);
  };
  who.anonymous = async () => ({});
}, 120_000);
afterAll(async () => {
  await app?.close();
});

describe('fuzzing every route and form', () => {
  it(`answers no random input with a 5xx and logs no error (seed ${SEED})`, async () => {
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as OpenAPIV3_1.Document;
    const operations: Operation[] = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
      (['get', 'post', 'put', 'patch', 'delete'] as const).flatMap((method) =>
        item?.[method] ? [{ method, path, op: item[method] as OpenAPIV3_1.OperationObject }] : [],
      ),
    );
    expect(operations.length).toBeGreaterThan(40);
    const failures: string[] = [];
    let sent = 0;
    for (const [role, headersOf] of Object.entries(who)) {
      let headers = await headersOf();
      for (const operation of operations) {
        for (let k = 0; k < CASES; k++) {
          const request = requestFor(operation);
          const r = await app.inject({ ...request, headers: { ...request.headers, ...headers } });
          sent++;
          // A fuzzed request may have ended the session (sign-out, a password change): sign in again.
          if (r.statusCode === 401 && role !== 'anonymous') headers = await headersOf();
          if (r.statusCode >= 500)
            failures.push(
              `${role} ${request.method} ${String(request.url).slice(0, 200)}: ${r.statusCode} ${r.body.slice(0, 200)}`,
            );
        }
      }
    }
    // The portal's forms, with a CSRF cookie, fields of every kind (tokens as long as the real one
    // in characters, not in bytes, included).
    const page = await app.inject({ method: 'GET', url: '/portal' });
    const csrfCookie = page.cookies.find((c) => c.name === 'portal_csrf')!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    for (const form of ['/portal/sign-in', '/portal/choose', '/portal/sign-out', '/portal/sign-out-everywhere'])
      for (let k = 0; k < CASES * 4; k++) {
        const fields: Record<string, string> = {
          csrf: pick([csrf, 'é'.repeat(csrf.length), randomBytes(csrf.length), '', `${csrf}x`]),
        };
        for (const name of ['nationalCode', 'pin', 'person', 'next', randomBytes(3)])
          if (random() < 0.7) fields[name] = String(nastyValue());
        const r = await app.inject({
          method: 'POST',
          url: form,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          cookies: { portal_csrf: csrfCookie.value, ...(random() < 0.3 ? { portal_session: randomBytes(43) } : {}) },
          payload: new URLSearchParams(fields).toString(),
        });
        sent++;
        if (r.statusCode >= 500) failures.push(`POST ${form} ${JSON.stringify(fields).slice(0, 200)}: ${r.statusCode}`);
      }
    expect(sent).toBeGreaterThan(operations.length * CASES * 3);
    expect(failures).toEqual([]);
    expect(errorLines).toEqual([]);
  }, 600_000);
});
