// Through the shipped TLS reverse proxy, for real: the profile's nginx (configured and started by
// setup, with setup's certificate from its development CA) in front of an API listening where nginx
// sends it (API_PORT), with the trusted-proxy setting setup wrote. Clients come from their own
// loopback addresses (127.0.0.x), so the API must see each one's address, not nginx's.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nationalCodeFor } from '../../lib/identifiers/validate';
import { bearer, staffToken, testApp } from '../../testing/api';
import {
  type Answer,
  callThroughProxy as call,
  listenBehindProxy,
  proxyHttpUrl as plain,
  proxyUrl as proxy,
} from '../../testing/proxy';
import { env } from '../../testing/services';

const run = `${process.pid}-${Date.now()}`;
let app: FastifyInstance;

const json = (payload: object) => ({
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(payload),
});
const cookies = (a: Answer) => [a.headers['set-cookie'] ?? []].flat();
const cookieHeader = (a: Answer) =>
  cookies(a)
    .map((c) => c.split(';')[0])
    .join('; ');
/**
 * A refused portal form (no CSRF token: 403) on a route with the sign-in rate limit: the limiter
 * counts it as a sign-in attempt, without the cost of a password hash.
 */
const refusedForm = (from: string, headers: Record<string, string> = {}) =>
  call('/portal/sign-out', { method: 'POST', from, headers });

// One staff sign-in for the file: the in-process sign-ins share one address and its rate limit.
let operator: Promise<string> | undefined;
const operatorToken = () => {
  operator ??= staffToken(app, `proxy-op-${run}`, 'OPERATOR');
  return operator;
};

beforeAll(async () => {
  // The API as deployed behind the proxy: the trusted-proxy setting is the one setup wrote (not overridden).
  // Two wrong PINs hold an address off an account: within the rate limit, so the hold-off is what answers.
  app = await testApp({ API_SIGN_IN_RATE_LIMIT: '3', API_SIGN_IN_MAX_FAILURES: '2' });
  await listenBehindProxy(app);
});
afterAll(async () => {
  await app?.close();
});

describe('the TLS reverse proxy (nginx) in front of the API and portal', () => {
  it('is configured by setup to match the API: nginx on loopback, the API trusting only it', () => {
    expect(env.API_TRUSTED_PROXIES).toBe('127.0.0.1');
    expect(proxy.protocol).toBe('https:');
    expect(proxy.hostname).toBe('127.0.0.1');
  });

  it("serves setup's certificate, which verifies against its development CA and nothing else", async () => {
    const answer = await call('/healthz');
    expect(answer.status).toBe(200);
    await expect(call('/healthz', { trust: null })).rejects.toThrow(/self[- ]signed|unable to (get|verify)/i);
  });

  it('signs a beneficiary in to the portal over https with Secure cookies and HSTS', async () => {
    const operator = await operatorToken();
    const nationalCode = nationalCodeFor(100_000_000 + (Date.now() % 800_000_000)); // a new person each run
    const created = await app.inject({
      method: 'POST',
      url: '/beneficiaries',
      headers: bearer(operator),
      payload: { nationalCode, fullName: `proxy ${run}`, province: 'fars', targetGroup: 'OTHER' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as number;
    const pinSet = await app.inject({
      method: 'PUT',
      url: `/beneficiaries/${id}/pin`,
      headers: bearer(operator),
      payload: { pin: '24680' },
    });
    expect(pinSet.statusCode, pinSet.body).toBe(204);

    const from = '127.0.0.6';
    const page = await call('/portal', { from });
    expect(page.status).toBe(200);
    expect(page.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(cookies(page).join('\n')).toMatch(/^portal_csrf=[^;]+;.*Secure/m);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1];
    expect(csrf).toBeDefined();
    const signedIn = await call('/portal/sign-in', {
      method: 'POST',
      from,
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(page) },
      body: new URLSearchParams({ nationalCode, pin: '24680', csrf: csrf! }).toString(),
    });
    expect(signedIn.status, signedIn.body).toBe(303);
    expect(signedIn.headers.location).toBe('/portal/home');
    const session = cookies(signedIn).find((c) => c.startsWith('portal_session='));
    expect(session).toMatch(/; Secure/);
    const home = await call('/portal/home', {
      from,
      headers: { cookie: `${cookieHeader(page)}; ${session!.split(';')[0]}` },
    });
    expect(home.status).toBe(200);
    expect(home.body).toContain(`proxy ${run}`);
    expect(home.headers['strict-transport-security']).toMatch(/max-age=\d+/);
  });

  it('serves the API over https: a staff sign-in and an authorised read', async () => {
    await staffToken(app, `proxy-admin-${run}`, 'ADMIN'); // creates the account (in-process)
    const signedIn = await call('/auth/staff/sign-in', {
      method: 'POST',
      from: '127.0.0.7',
      ...json({ username: `proxy-admin-${run}`, password: 'long-enough-password' }),
    });
    expect(signedIn.status, signedIn.body).toBe(200);
    const months = await call('/billing/months', {
      from: '127.0.0.7',
      headers: bearer(JSON.parse(signedIn.body).token),
    });
    expect(months.status, months.body).toBe(200);
    expect(months.headers['strict-transport-security']).toMatch(/max-age=\d+/);
  });

  it("rate-limits per real client: one client's attempts do not lock out the next", async () => {
    const first = [];
    for (let k = 0; k < 4; k++) first.push((await refusedForm('127.0.0.2')).status);
    expect(first).toEqual([403, 403, 403, 429]);
    expect((await refusedForm('127.0.0.3')).status).toBe(403);
  });

  it("holds off the address that typed wrong PINs, not the owner's: lock-out per real client", async () => {
    const operator = await operatorToken();
    const nationalCode = nationalCodeFor(100_000_000 + ((Date.now() + 7) % 800_000_000));
    const created = await app.inject({
      method: 'POST',
      url: '/beneficiaries',
      headers: bearer(operator),
      payload: { nationalCode, fullName: `held off ${run}`, province: 'fars', targetGroup: 'OTHER' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const pinSet = await app.inject({
      method: 'PUT',
      url: `/beneficiaries/${created.json().id}/pin`,
      headers: bearer(operator),
      payload: { pin: '97531' },
    });
    expect(pinSet.statusCode, pinSet.body).toBe(204);
    const signIn = (from: string, pin: string) =>
      call('/auth/beneficiary/sign-in', { method: 'POST', from, ...json({ nationalCode, pin }) });
    const guesses = [];
    for (const pin of ['11111', '22222', '97531']) guesses.push((await signIn('127.0.0.8', pin)).status);
    expect(guesses).toEqual([401, 401, 423]); // held off, even with the right PIN, from that address
    // Behind one proxy every client was nginx's 127.0.0.1: the owner would have been held off too.
    const owner = await signIn('127.0.0.9', '97531');
    expect(owner.status, owner.body).toBe(200);
  });

  it('ignores forwarded headers a client sends: through the proxy and straight to the API', async () => {
    // Through nginx: an invented X-Forwarded-For per attempt does not make a new client.
    const spoofed = [];
    for (let k = 0; k < 4; k++)
      spoofed.push((await refusedForm('127.0.0.4', { 'x-forwarded-for': `198.51.100.${10 + k}` })).status);
    expect(spoofed).toEqual([403, 403, 403, 429]);
    // Straight to the API, bypassing nginx: not a trusted proxy, so no https, no Secure, no HSTS.
    const direct = await call('/portal', {
      from: '127.0.0.5',
      plainPort: Number(env.API_PORT),
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.99' },
    });
    expect(direct.status).toBe(200);
    expect(cookies(direct).join('\n')).not.toMatch(/Secure/);
    expect(direct.headers['strict-transport-security']).toBeUndefined();
  });

  it('redirects plain HTTP page loads to https and refuses anything else in clear', async () => {
    const page = await call('/portal/help?x=1', { plainPort: Number(plain.port) });
    expect(page.status).toBe(301);
    expect(page.headers.location).toBe(`https://127.0.0.1:${proxy.port}/portal/help?x=1`);
    expect(page.headers['set-cookie']).toBeUndefined();
    const post = await call('/auth/staff/sign-in', {
      plainPort: Number(plain.port),
      method: 'POST',
      ...json({ username: 'admin', password: 'sent-in-clear' }),
    });
    expect(post.status).toBe(403);
  });
});
