// Sign-in's defences, against the real PostgreSQL: idempotency never replays a secret or an
// anonymous call, lock-out counts parallel failures, unknown and real accounts answer alike and
// the owner is not locked out by someone else's address, PINs in any digits, sessions that end
// when they should, and hashing at today's cost with re-hash on sign-in.
import { randomBytes, scryptSync } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nationalCodeFor } from '../../lib/identifiers/validate';
import { hashSecret, tokenHash } from '../../lib/passwords';
import {
  bearer,
  signInStatementsDuring,
  STAFF_PASSWORD,
  staffToken,
  testApp,
  whileSignInsAreFull,
} from '../../testing/api';
import { withPg } from '../../testing/services';

let app: FastifyInstance;
const token = { admin: '', operator: '', technician: '' };
const run = Number(process.pid) % 100_000;
const code = (n: number) => nationalCodeFor(run * 10_000 + 7000 + n);
let installationId = 0;

beforeAll(async () => {
  app = await testApp({ API_SIGN_IN_MAX_FAILURES: '3', API_SIGN_IN_RATE_LIMIT: '1000' });
  token.admin = await staffToken(app, `sec-admin-${run}`, 'ADMIN');
  token.operator = await staffToken(app, `sec-op-${run}`, 'OPERATOR');
  token.technician = await staffToken(app, `sec-tech-${run}`, 'TECHNICIAN');
  const site = await call('POST', '/installations', token.operator, {
    code: `SEC${run}`,
    name: 'security',
    province: 'fars',
    latitude: 29.6,
    longitude: 52.5,
    dcCapacityKwp: 10,
    acRatingKw: 10,
  });
  installationId = site.json().id;
});
afterAll(async () => {
  await app.close();
});

function call(
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  url: string,
  who: string | null,
  payload?: unknown,
  headers: Record<string, string> = {},
  on: FastifyInstance = app,
  remoteAddress = '127.0.0.1',
) {
  return on.inject({
    method,
    url,
    remoteAddress,
    headers: { ...(who ? bearer(who) : {}), ...headers },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
}
async function person(n: number, pin = '12345') {
  const created = await call('POST', '/beneficiaries', token.operator, {
    nationalCode: code(n),
    fullName: `sec ${n}`,
    province: 'fars',
    targetGroup: 'OTHER',
  });
  expect(created.statusCode, created.body).toBe(201);
  expect((await call('PUT', `/beneficiaries/${created.json().id}/pin`, token.operator, { pin })).statusCode).toBe(204);
  return created.json().id as number;
}
const beneficiarySignIn = (n: number | string, pin: string, on = app, remoteAddress = '127.0.0.1') =>
  call(
    'POST',
    '/auth/beneficiary/sign-in',
    null,
    { nationalCode: typeof n === 'number' ? code(n) : n, pin },
    {},
    on,
    remoteAddress,
  );

/** The portal's sign-in form as a phone sends it (CSRF cookie and field), ticking "this phone is mine" or not. */
async function portalSignIn(n: number, pin: string, { remember }: { remember: boolean }, remoteAddress = '127.0.0.1') {
  const page = await app.inject({ method: 'GET', url: '/portal', remoteAddress });
  const csrf = page.cookies.find((c) => c.name === 'portal_csrf')!.value;
  return app.inject({
    method: 'POST',
    url: '/portal/sign-in',
    remoteAddress,
    headers: { cookie: `portal_csrf=${csrf}`, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({
      nationalCode: code(n),
      pin,
      csrf,
      ...(remember ? { remember: 'yes' } : {}),
    }).toString(),
  });
}
const daysFromNow = (when: Date) => (when.getTime() - Date.now()) / 86_400_000;

describe('idempotency', () => {
  it('never replays a sign-in: a retried key with a wrong password is refused', async () => {
    const headers = { 'idempotency-key': `signin-${run}-1` };
    const username = `sec-admin-${run}`;
    const first = await call(
      'POST',
      '/auth/staff/sign-in',
      null,
      { username, password: 'long-enough-password' },
      headers,
    );
    expect(first.statusCode).toBe(200);
    const second = await call('POST', '/auth/staff/sign-in', null, { username, password: 'wrong' }, headers);
    expect(second.statusCode).toBe(401);
    expect(second.body).not.toContain(first.json().token);
    const stored = await withPg((c) =>
      c.query('SELECT 1 FROM idempotent_requests WHERE key LIKE $1', [`%signin-${run}-1`]),
    );
    expect(stored.rowCount).toBe(0);
  });

  it('never stores or replays a device password: a retried inverter creation is refused with what to do', async () => {
    const headers = { 'idempotency-key': `inverter-${run}-1` };
    const payload = { serial: `IDEM${run}`, installationId, ratedAcW: 5000, model: 'x' };
    const first = await call('POST', '/inverters', token.technician, payload, headers);
    expect(first.statusCode, first.body).toBe(201);
    const password = first.json().mqtt.password as string;
    const retry = await call('POST', '/inverters', token.technician, payload, headers);
    expect(retry.json()).toMatchObject({ statusCode: 409, field: 'Idempotency-Key' });
    expect(retry.json().message).toMatch(/shown only once.*credentials/);
    expect(retry.body).not.toContain(password);
    const everything = await withPg((c) => c.query('SELECT response::text AS r FROM idempotent_requests'));
    expect(everything.rows.map((r) => r.r).join()).not.toContain(password);
  });

  it('is scoped to the caller and replays a create only within its lifetime, then purges it', async () => {
    const headers = { 'idempotency-key': `person-${run}-1` };
    const payload = { nationalCode: code(1), fullName: 'idem', province: 'fars', targetGroup: 'OTHER' };
    const first = await call('POST', '/beneficiaries', token.operator, payload, headers);
    expect(first.statusCode).toBe(201);
    const replay = await call('POST', '/beneficiaries', token.operator, payload, headers);
    expect(replay.headers['idempotent-replay']).toBe('true');
    // Another caller with the same key is not answered with the first caller's reply.
    const other = await call('POST', '/beneficiaries', token.admin, payload, headers);
    expect(other.headers['idempotent-replay']).toBeUndefined();
    expect(other.statusCode).toBe(409);

    await withPg((c) =>
      c.query(`UPDATE idempotent_requests SET created_at = created_at - interval '25 hours' WHERE key LIKE $1`, [
        `%person-${run}-1`,
      ]),
    );
    const late = await call('POST', '/beneficiaries', token.operator, payload, headers);
    expect(late.headers['idempotent-replay']).toBeUndefined();
    expect(late.statusCode).toBe(409); // a new request: the person exists already
    await withPg((c) =>
      c.query(`UPDATE idempotent_requests SET created_at = created_at - interval '25 hours' WHERE key LIKE $1`, [
        `%person-${run}-%`,
      ]),
    );
    const fresh = await testApp();
    await fresh.ready(); // purges at start
    await fresh.close();
    const left = await withPg((c) =>
      c.query('SELECT 1 FROM idempotent_requests WHERE key LIKE $1', [`%person-${run}-%`]),
    );
    expect(left.rowCount).toBe(0);
  });
});

describe('lock-out', () => {
  it('counts every one of 20 parallel wrong PINs', async () => {
    await person(10);
    // A queue long enough for all 20 (this is about counting, not capacity).
    const strict = await testApp({
      API_SIGN_IN_MAX_FAILURES: '25',
      API_SIGN_IN_RATE_LIMIT: '1000',
      API_SIGN_IN_MAX_WAIT_MS: '60000',
    });
    try {
      const parallel = await Promise.all(Array.from({ length: 20 }, () => beneficiarySignIn(10, '99999', strict)));
      expect(parallel.map((r) => r.statusCode)).toEqual(Array(20).fill(401));
      for (let i = 0; i < 5; i++) expect((await beneficiarySignIn(10, '99999', strict)).statusCode).toBe(401);
      // 25 failures: held off even with the right PIN.
      expect((await beneficiarySignIn(10, '12345', strict)).statusCode).toBe(423);
    } finally {
      await strict.close();
    }
  });

  it('answers unknown and real accounts alike, and does not lock the owner out from another address', async () => {
    await person(20);
    const unknown = code(21); // a valid national code of nobody in the program
    const answers = async (n: number | string) => {
      const out = [];
      for (let i = 0; i < 4; i++) {
        const r = await beneficiarySignIn(n, '99999', app, '10.1.1.1');
        out.push({ status: r.statusCode, message: (r.json().message as string).replace(/after .*/, 'after T') });
      }
      return out;
    };
    const real = await answers(20);
    expect(real.map((a) => a.status)).toEqual([401, 401, 401, 423]);
    expect(await answers(unknown)).toEqual(real);
    // The address that failed is held off; the owner, from their own, is not.
    expect((await beneficiarySignIn(20, '12345', app, '10.1.1.1')).statusCode).toBe(423);
    expect((await beneficiarySignIn(20, '12345', app, '10.2.2.2')).statusCode).toBe(200);
  });
});

describe('the sign-in queue', () => {
  it('answers 503 with Retry-After at once when the checks would exceed capacity, checking and counting nothing', async () => {
    await person(50);
    // One check at a time and no waiting: of 6 at once, one is checked and the others refused.
    const small = await testApp({
      API_SIGN_IN_MAX_FAILURES: '3',
      API_SIGN_IN_RATE_LIMIT: '1000',
      API_SIGN_IN_CONCURRENCY: '1',
      API_SIGN_IN_MAX_WAIT_MS: '0',
    });
    try {
      const flood = await Promise.all(
        Array.from({ length: 6 }, async () => {
          const started = performance.now();
          const r = await beneficiarySignIn(50, '99999', small);
          return { r, ms: performance.now() - started };
        }),
      );
      const refused = flood.filter((a) => a.r.statusCode === 503);
      const checked = flood.filter((a) => a.r.statusCode === 401);
      expect(refused.length + checked.length).toBe(6);
      expect(refused.length).toBeGreaterThanOrEqual(3);
      for (const { r, ms } of refused) {
        expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        expect(r.json()).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
        expect(r.json().message).toMatch(/try again in \d+ s/);
        // Refused without waiting for a check (each check is a whole scrypt).
        expect(ms).toBeLessThan(Math.min(...checked.map((c) => c.ms)));
      }
      // The refused were no guesses: fewer than 3 failures counted, so the right PIN still works.
      expect(checked.length).toBeLessThan(3);
      expect((await beneficiarySignIn(50, '12345', small)).statusCode).toBe(200);
    } finally {
      await small.close();
    }
  });

  it('refuses at capacity before any account lookup or PIN check: a refused sign-in sends PostgreSQL nothing', async () => {
    await person(51);
    const small = await testApp({
      API_SIGN_IN_RATE_LIMIT: '1000',
      API_SIGN_IN_CONCURRENCY: '1',
      API_SIGN_IN_MAX_WAIT_MS: '0',
    });
    try {
      await small.ready();
      const answers: Awaited<ReturnType<typeof call>>[] = [];
      const asked = await signInStatementsDuring(() =>
        whileSignInsAreFull(small, async () => {
          answers.push(await beneficiarySignIn(51, '12345', small));
          answers.push(
            await call(
              'POST',
              '/auth/staff/sign-in',
              null,
              { username: `sec-admin-${run}`, password: STAFF_PASSWORD },
              {},
              small,
            ),
          );
          answers.push(await beneficiarySignIn(999_999, '12345', small)); // no such account: the same
        }),
      );
      for (const r of answers) {
        expect(r.statusCode, r.body).toBe(503);
        expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      }
      expect(asked).toEqual([]);
      // Admitted, the same sign-in looks the account up, checks the throttle and starts a session.
      let admitted!: Awaited<ReturnType<typeof call>>;
      const admittedAsked = await signInStatementsDuring(async () => {
        admitted = await beneficiarySignIn(51, '12345', small);
      });
      expect(admitted.statusCode).toBe(200);
      expect(admittedAsked.join('\n')).toMatch(
        /"beneficiaries"[\s\S]*sign_in_throttle[\s\S]*INSERT INTO "public"\."sessions"/,
      );
    } finally {
      await small.close();
    }
  });
});

describe('PINs', () => {
  it('work when typed in Persian or Arabic-Indic digits, and may be set in them', async () => {
    await person(30, '٢٤٦٨٠');
    expect((await beneficiarySignIn(30, '24680')).statusCode).toBe(200);
    expect((await beneficiarySignIn(30, '۲۴۶۸۰')).statusCode).toBe(200);
    expect((await beneficiarySignIn(30, '٢٤٦٨٠')).statusCode).toBe(200);
  });
});

describe('sessions', () => {
  const status = async (t: string, url = '/me') => (await call('GET', url, t)).statusCode;

  it('end on a PIN reset, on leaving the program, and on sign-out everywhere, at once', async () => {
    const id = await person(40);
    const sign = async () => (await beneficiarySignIn(40, '12345')).json().token as string;
    const [a, b] = [await sign(), await sign()];
    expect(await status(a)).toBe(200); // now cached in this process
    expect(await status(b)).toBe(200);
    expect((await call('PUT', `/beneficiaries/${id}/pin`, token.operator, { pin: '54321' })).statusCode).toBe(204);
    expect(await status(a)).toBe(401);
    expect(await status(b)).toBe(401);

    const [c, d] = [
      (await beneficiarySignIn(40, '54321')).json().token as string,
      (await beneficiarySignIn(40, '54321')).json().token as string,
    ];
    expect(await status(c)).toBe(200);
    expect((await call('POST', '/auth/sign-out-everywhere', d)).statusCode).toBe(204);
    expect(await status(c)).toBe(401);
    expect(await status(d)).toBe(401);

    const e = (await beneficiarySignIn(40, '54321')).json().token as string;
    expect(await status(e)).toBe(200);
    expect((await call('PATCH', `/beneficiaries/${id}`, token.operator, { status: 'EXITED' })).statusCode).toBe(200);
    expect(await status(e)).toBe(401);
    expect((await beneficiarySignIn(40, '54321')).statusCode).toBe(401);
  });

  it('end when a staff user is disabled or their password is reset', async () => {
    const username = `sec-victim-${run}`;
    const first = await staffToken(app, username, 'OPERATOR');
    expect(await status(first, '/beneficiaries')).toBe(200);
    const id = (await withPg((c) => c.query('SELECT id FROM users WHERE username = $1', [username]))).rows[0].id;
    expect(
      (await call('PUT', `/users/${id}/password`, token.admin, { password: 'another-long-password' })).statusCode,
    ).toBe(204);
    expect(await status(first, '/beneficiaries')).toBe(401);
    const second = (
      await call('POST', '/auth/staff/sign-in', null, { username, password: 'another-long-password' })
    ).json().token as string;
    expect(await status(second, '/beneficiaries')).toBe(200);
    const disabled = await call('PATCH', `/users/${id}`, token.admin, { disabled: true });
    expect(disabled.json()).toMatchObject({ id, disabled: true });
    expect(await status(second, '/beneficiaries')).toBe(401);
    const refused = await call('POST', '/auth/staff/sign-in', null, { username, password: 'another-long-password' });
    expect(refused.json()).toMatchObject({ statusCode: 401, message: 'wrong credentials' });
  });

  it("last 90 days on a person's own phone, moved on as they are used but never past a year; staff and API tokens stay 12 h and never move", async () => {
    await person(60);
    const signedIn = await portalSignIn(60, '12345', { remember: true });
    expect(signedIn.statusCode, signedIn.body).toBe(303);
    const cookie = signedIn.cookies.find((c) => c.name === 'portal_session')!;
    expect(daysFromNow(cookie.expires!)).toBeCloseTo(90, 1);
    const hash = tokenHash(cookie.value);
    const row = async () =>
      (
        await withPg((c) =>
          c.query(
            `SELECT portal, sliding_days, extract(epoch FROM expires_at)::float8 * 1000 AS expires,
                    extract(epoch FROM renew_until)::float8 * 1000 AS "renewUntil" FROM sessions WHERE token_hash = $1`,
            [hash],
          ),
        )
      ).rows[0] as { portal: boolean; sliding_days: number; expires: number; renewUntil: number } | undefined;
    const setTimes = async (expiresInDays: number, renewUntilInDays = 365) => {
      await withPg((c) =>
        c.query(
          `UPDATE sessions SET expires_at = now() AT TIME ZONE 'UTC' + make_interval(secs => $2::float8 * 86400),
                  renew_until = now() AT TIME ZONE 'UTC' + make_interval(secs => $3::float8 * 86400) WHERE token_hash = $1`,
          [hash, expiresInDays, renewUntilInDays],
        ),
      );
      app.forgetSession(hash);
    };
    const open = (token = cookie.value, path = '/portal/home') =>
      app.inject({ method: 'GET', url: path, headers: { cookie: `portal_session=${token}` } });
    const renewedCookie = (r: Awaited<ReturnType<typeof open>>) => r.cookies.find((c) => c.name === 'portal_session');
    expect(await row()).toMatchObject({ portal: true, sliding_days: 90 });
    expect(daysFromNow(new Date((await row())!.renewUntil))).toBeCloseTo(365, 1);

    // Used the day it began: nothing moves.
    const sameDay = await open();
    expect(sameDay.statusCode).toBe(200);
    expect(renewedCookie(sameDay)).toBeUndefined();
    // Last used 61 days ago (29 days left): this visit moves it to 90 days from now, cookie and row.
    await setTimes(29);
    const monthLater = await open();
    expect(monthLater.statusCode).toBe(200);
    expect(daysFromNow(renewedCookie(monthLater)!.expires!)).toBeCloseTo(90, 1);
    expect(daysFromNow(new Date((await row())!.expires))).toBeCloseTo(90, 1);
    // Moved once a day at most: the next page the same day writes nothing.
    app.forgetSession(hash);
    expect(renewedCookie(await open(cookie.value, `/portal/help`))).toBeUndefined();
    // A year after the PIN was typed it is not moved further: 5 days left, the cap in 10.
    await setTimes(5, 10);
    const nearCap = await open();
    expect(daysFromNow(renewedCookie(nearCap)!.expires!)).toBeCloseTo(10, 1);
    expect(daysFromNow(new Date((await row())!.expires))).toBeCloseTo(10, 1);
    // Past its end it is gone: the portal asks for the PIN again.
    await setTimes(-1 / 1440, 10);
    const expired = await open();
    expect(expired.statusCode).toBe(303);
    expect(expired.headers.location).toBe('/portal');

    // Bound to where it is used: a portal session is no bearer token, an API token no portal cookie.
    const again = (await portalSignIn(60, '12345', { remember: true })).cookies.find(
      (c) => c.name === 'portal_session',
    )!;
    expect((await call('GET', '/me', again.value)).statusCode).toBe(401);
    const api = (await beneficiarySignIn(60, '12345')).json().token as string;
    expect((await call('GET', '/me', api)).statusCode).toBe(200);
    expect((await open(api)).statusCode).toBe(303);
    // Not ticked: a cookie that ends with the browser, and a session of 12 hours that never moves.
    const notMine = (await portalSignIn(60, '12345', { remember: false })).cookies.find(
      (c) => c.name === 'portal_session',
    )!;
    expect(notMine.expires).toBeUndefined();
    const shortRows = await withPg((c) =>
      c.query(
        `SELECT portal, sliding_days, renew_until, extract(epoch FROM expires_at - (now() AT TIME ZONE 'UTC'))::float8 / 3600 AS hours
           FROM sessions WHERE token_hash = ANY($1) ORDER BY portal`,
        [[tokenHash(api), tokenHash(notMine.value), tokenHash(token.admin)]],
      ),
    );
    expect(shortRows.rows.length).toBe(3);
    for (const r of shortRows.rows) {
      expect(r).toMatchObject({ sliding_days: null, renew_until: null });
      expect(r.hours).toBeLessThanOrEqual(12);
      expect(r.hours).toBeGreaterThan(11);
    }
  });

  it('end on every phone when the PIN changes or the account is locked (not when one address is held off)', async () => {
    const id = await person(61);
    // One after the other: the default sign-in queue checks one PIN at a time on two cores, and on a
    // busy machine a second waiting behind it would be told to come back (503).
    const phone = async (pin: string) =>
      (await portalSignIn(61, pin, { remember: true })).cookies.find((c) => c.name === 'portal_session')!.value;
    const phones = async (pin: string) => [await phone(pin), await phone(pin)];
    const signedIn = async (cookie: string) =>
      (await app.inject({ method: 'GET', url: '/portal/home', headers: { cookie: `portal_session=${cookie}` } }))
        .statusCode === 200;
    const first = await phones('12345');
    expect(await Promise.all(first.map(signedIn))).toEqual([true, true]);
    expect((await call('PUT', `/beneficiaries/${id}/pin`, token.operator, { pin: '54321' })).statusCode).toBe(204);
    expect(await Promise.all(first.map(signedIn))).toEqual([false, false]);

    // Someone guessing the PIN from four addresses: each address is held off after 3 (API_SIGN_IN_MAX_FAILURES),
    // which ends nothing; the account held off from everywhere (4 x 3) ends every session.
    const second = await phones('54321');
    for (let address = 1; address <= 4; address++) {
      for (let i = 0; i < 3; i++)
        expect((await beneficiarySignIn(61, '00000', app, `198.51.100.${address}`)).statusCode).toBe(401);
      if (address < 4) expect(await Promise.all(second.map(signedIn))).toEqual([true, true]);
    }
    expect((await beneficiarySignIn(61, '54321', app, '198.51.100.9')).statusCode).toBe(423);
    expect(await Promise.all(second.map(signedIn))).toEqual([false, false]);
  });

  it('end on every phone when the person signs out everywhere in the portal, or the office does it for them, and only theirs', async () => {
    const id = await person(62);
    await person(63);
    const phone = async (n: number) =>
      (await portalSignIn(n, '12345', { remember: true })).cookies.find((c) => c.name === 'portal_session')!.value;
    const signedIn = async (cookie: string) =>
      (await app.inject({ method: 'GET', url: '/portal/home', headers: { cookie: `portal_session=${cookie}` } }))
        .statusCode === 200;
    const [own, lost, api, someoneElse] = [
      await phone(62),
      await phone(62),
      (await beneficiarySignIn(62, '12345')).json().token as string,
      await phone(63),
    ];
    const everywhere = (cookie: string, csrf: string | null) =>
      app.inject({
        method: 'POST',
        url: '/portal/sign-out-everywhere',
        headers: {
          cookie: `portal_session=${cookie}; portal_csrf=${'c'.repeat(43)}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        payload: csrf === null ? '' : `csrf=${csrf}`,
      });
    expect((await everywhere(own, null)).statusCode).toBe(403); // a form from elsewhere ends nothing
    expect(await signedIn(lost)).toBe(true);
    const out = await everywhere(own, 'c'.repeat(43));
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe('/portal?signed-out-everywhere');
    expect(out.cookies.find((c) => c.name === 'portal_session')?.value).toBe('');
    expect(await Promise.all([own, lost].map(signedIn))).toEqual([false, false]);
    expect(await status(api)).toBe(401);
    expect(await signedIn(someoneElse)).toBe(true);

    // The office, for someone who calls: every session ends, the PIN stays, it is audited.
    const again = [await phone(62), await phone(62)];
    expect((await call('DELETE', `/beneficiaries/${id}/sessions`, token.technician)).statusCode).toBe(403);
    expect((await call('DELETE', `/beneficiaries/${id}/sessions`, token.operator)).statusCode).toBe(204);
    expect(await Promise.all(again.map(signedIn))).toEqual([false, false]);
    expect(await signedIn(someoneElse)).toBe(true);
    expect((await portalSignIn(62, '12345', { remember: true })).statusCode).toBe(303);
    expect((await call('DELETE', '/beneficiaries/999999999/sessions', token.operator)).statusCode).toBe(404);
    expect((await call('DELETE', '/representatives/999999999/sessions', token.operator)).statusCode).toBe(404);
    const audit = await withPg((c) =>
      c.query(
        `SELECT actor, action FROM audit_log WHERE entity = 'beneficiary' AND entity_id = $1 AND action LIKE '%sessions'`,
        [String(id)],
      ),
    );
    expect(audit.rows).toEqual([{ actor: `staff:sec-op-${run}`, action: 'beneficiary.end_sessions' }]);
  });

  it('are purged once expired', async () => {
    const hash = randomBytes(32).toString('hex');
    await withPg((c) =>
      c.query(
        `INSERT INTO sessions (token_hash, user_id, expires_at) SELECT $1, id, now() - interval '1 minute' FROM users WHERE username = $2`,
        [hash, `sec-admin-${run}`],
      ),
    );
    const fresh = await testApp();
    await fresh.ready();
    await fresh.close();
    const left = await withPg((c) => c.query('SELECT 1 FROM sessions WHERE token_hash = $1', [hash]));
    expect(left.rowCount).toBe(0);
  });
});

describe('password and PIN hashing', () => {
  it("uses scrypt at OWASP's cost and re-hashes an older, cheaper hash at the next sign-in", async () => {
    expect(await hashSecret('x')).toMatch(/^scrypt\$131072\$8\$1\$/);
    const username = `sec-old-${run}`;
    // A hash as the platform wrote it before (N = 2^14).
    const salt = randomBytes(16);
    const old = `scrypt$16384$8$1$${salt.toString('base64')}$${scryptSync('old-but-valid-pw', salt, 32, { N: 16384, r: 8, p: 1 }).toString('base64')}`;
    await withPg((c) =>
      c.query(`INSERT INTO users (username, password_hash, role) VALUES ($1, $2, 'OPERATOR')`, [username, old]),
    );
    const signedIn = await call('POST', '/auth/staff/sign-in', null, { username, password: 'old-but-valid-pw' });
    expect(signedIn.statusCode).toBe(200);
    const now = (await withPg((c) => c.query('SELECT password_hash FROM users WHERE username = $1', [username])))
      .rows[0].password_hash as string;
    expect(now).toMatch(/^scrypt\$131072\$8\$1\$/);
    expect(
      (await call('POST', '/auth/staff/sign-in', null, { username, password: 'old-but-valid-pw' })).statusCode,
    ).toBe(200);
    // A forged hash asking for an absurd cost is refused, not computed.
    await withPg((c) =>
      c.query(`UPDATE users SET password_hash = $2 WHERE username = $1`, [
        username,
        `scrypt$1073741824$8$1$${salt.toString('base64')}$AAAA`,
      ]),
    );
    expect((await call('POST', '/auth/staff/sign-in', null, { username, password: 'x' })).statusCode).toBe(401);
  });
});
