// Behind the TLS reverse proxy: the client's scheme and address come from X-Forwarded-* only when
// the connection is from a configured proxy (API_TRUSTED_PROXIES). Cookies get Secure and responses
// HSTS on https; the sign-in rate limit counts each real client, not the proxy; anyone else's
// forwarded headers are ignored.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTrustedProxies } from '../src/config';
import { testApp } from '../../testing/api';

const PROXY = '127.0.0.1';
const STRANGER = '203.0.113.9';
let app: FastifyInstance;
beforeAll(async () => {
  app = await testApp({ API_TRUSTED_PROXIES: `${PROXY},::1`, API_SIGN_IN_RATE_LIMIT: '3' });
});
afterAll(async () => {
  await app?.close();
});

const run = `${process.pid}-${Date.now()}`;
/** A failed sign-in; each caller types its own unknown account, so the per-account lock-out stays out of the way. */
const signIn = (remoteAddress: string, forwardedFor: string) =>
  app.inject({
    method: 'POST',
    url: '/auth/staff/sign-in',
    remoteAddress,
    headers: { 'x-forwarded-for': forwardedFor, 'x-forwarded-proto': 'https' },
    payload: { username: `nobody-${forwardedFor}-${remoteAddress}-${run}`, password: 'wrong-password-123' },
  });

describe('behind a trusted proxy', () => {
  it('sets Secure cookies and HSTS when the client came over https, only through a trusted proxy', async () => {
    const viaProxy = await app.inject({
      method: 'GET',
      url: '/portal',
      remoteAddress: PROXY,
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.7' },
    });
    expect(viaProxy.statusCode).toBe(200);
    expect(String(viaProxy.headers['set-cookie'])).toMatch(/portal_csrf=[^;]+;.*Secure/);
    expect(viaProxy.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    const forged = await app.inject({
      method: 'GET',
      url: '/portal',
      remoteAddress: STRANGER,
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(String(forged.headers['set-cookie'])).not.toMatch(/Secure/);
    expect(forged.headers['strict-transport-security']).toBeUndefined();
  });

  it('limits sign-ins per real client behind the proxy, and ignores forwarded addresses from anyone else', async () => {
    const a = [];
    for (let k = 0; k < 4; k++) a.push((await signIn(PROXY, '198.51.100.1')).statusCode);
    expect(a.slice(0, 3).every((s) => s === 401)).toBe(true);
    expect(a[3]).toBe(429);
    // Another client through the same proxy is not locked out by the first one's failures.
    expect((await signIn(PROXY, '198.51.100.2')).statusCode).toBe(401);
    // A stranger cannot escape the limit by inventing addresses.
    const s = [];
    for (let k = 0; k < 4; k++) s.push((await signIn(STRANGER, `198.51.100.${50 + k}`)).statusCode);
    expect(s[3]).toBe(429);
  });

  it('refuses a trusted-proxy setting that is not an address or range', () => {
    expect(parseTrustedProxies('127.0.0.1, 10.0.0.0/8,::1')).toEqual(['127.0.0.1', '10.0.0.0/8', '::1']);
    for (const bad of ['localhost', '10.0.0.0/33', '1.2.3.4/8/1'])
      expect(() => parseTrustedProxies(bad)).toThrow(RangeError);
  });
});
