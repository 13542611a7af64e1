// Access ends at once in every API process: two API processes run here; a token or portal cookie
// is used (hence cached) on the second, then revoked through the first (a staff user disabled, a
// beneficiary leaving the program, sign-out everywhere, a PIN reset, a guardianship ended, a
// guardian's PIN reset) or by SQL, and the second must refuse it on the next request (before, it
// honoured it for up to 10 s from its cache).
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrisma } from '../../lib/db';
import { nationalCodeFor, shebaFor } from '../../lib/identifiers/validate';
import { hashSecret } from '../../lib/passwords';
import { env, freePort, waitFor, withPg } from '../../testing/services';

const run = `${process.pid}`;
const PASSWORD = 'long-enough-password';
// Ports the system says are free: ones derived from the profile's can belong to another checkout's services.
const ports: number[] = [];
const processes: ChildProcess[] = [];
const outputs: string[] = ['', ''];
const url = (k: number, path: string) => `http://127.0.0.1:${ports[k]}${path}`;

async function call(k: number, method: string, path: string, token?: string, body?: object) {
  const r = await fetch(url(k, path), {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, json: (await r.json().catch(() => null)) as Record<string, unknown> | null };
}
async function staff(username: string, role: 'ADMIN' | 'TECHNICIAN') {
  const prisma = createPrisma(env.DATABASE_URL!);
  try {
    const passwordHash = await hashSecret(PASSWORD);
    const user = await prisma.user.upsert({
      where: { username },
      create: { username, role, passwordHash },
      update: { role, passwordHash, disabledAt: null },
    });
    const signedIn = await call(0, 'POST', '/auth/staff/sign-in', undefined, { username, password: PASSWORD });
    expect(signedIn.status).toBe(200);
    return { id: user.id, token: signedIn.json!.token as string };
  } finally {
    await prisma.$disconnect();
  }
}
/** The second process refuses the token at once (polled briefly: the notification travels). */
async function refusedOnSecond(path: string, token: string): Promise<number> {
  const started = performance.now();
  await waitFor(
    `${path} to be refused on the second process`,
    () => call(1, 'GET', path, token),
    (r) => r.status === 401,
    2000,
    20,
  );
  return performance.now() - started;
}

beforeAll(async () => {
  ports.push(await freePort(), await freePort());
  for (const [k, port] of ports.entries()) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'api/src/server.ts'], {
      env: {
        ...env,
        API_PORT: String(port),
        LOG_LEVEL: 'warn',
        API_SIGN_IN_RATE_LIMIT: '1000',
        // No warm-up and no drain: this test is about revocation, not restarts.
        API_WARM_UP_ROUNDS: '0',
        API_DRAIN_SECONDS: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => {
      outputs[k] += d;
    });
    child.stderr!.on('data', (d) => {
      outputs[k] += d;
    });
    processes.push(child);
  }
  for (const k of [0, 1])
    await waitFor(
      `API process ${k} (${outputs[k]!.slice(-300)})`,
      () => fetch(url(k, '/healthz')).catch(() => null),
      (r) => r !== null,
      90_000,
      200,
    );
}, 120_000);
afterAll(async () => {
  await Promise.all(
    processes.map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null) return resolve(null);
          child.once('exit', resolve);
          child.kill('SIGTERM');
        }),
    ),
  );
});

describe('revocation across API processes', () => {
  it('a disabled staff user, a sign-out everywhere and a beneficiary who left are refused at once everywhere', async () => {
    const admin = await staff(`revoke-admin-${run}`, 'ADMIN');
    const technician = await staff(`revoke-tech-${run}`, 'TECHNICIAN');
    expect((await call(1, 'GET', '/installations?pageSize=1', technician.token)).status).toBe(200);
    expect((await call(0, 'PATCH', `/users/${technician.id}`, admin.token, { disabled: true })).status).toBe(200);
    const disabledMs = await refusedOnSecond('/installations?pageSize=1', technician.token);

    const other = await staff(`revoke-other-${run}`, 'TECHNICIAN');
    expect((await call(1, 'GET', '/installations?pageSize=1', other.token)).status).toBe(200);
    expect((await call(0, 'POST', '/auth/sign-out-everywhere', other.token)).status).toBeLessThan(300);
    const signOutMs = await refusedOnSecond('/installations?pageSize=1', other.token);

    const seed = 950_000 + (process.pid % 5000);
    const created = await call(0, 'POST', '/beneficiaries', admin.token, {
      nationalCode: nationalCodeFor(seed),
      fullName: 'Leaving Person',
      sheba: shebaFor(seed),
      province: 'yazd',
      targetGroup: 'OTHER',
    });
    expect(created.status).toBe(201);
    const id = created.json!.id as number;
    expect((await call(0, 'PUT', `/beneficiaries/${id}/pin`, admin.token, { pin: '571938' })).status).toBe(204);
    const signedIn = await call(0, 'POST', '/auth/beneficiary/sign-in', undefined, {
      nationalCode: nationalCodeFor(seed),
      pin: '571938',
    });
    const token = signedIn.json!.token as string;
    expect((await call(1, 'GET', '/me', token)).status).toBe(200);
    expect((await call(0, 'PATCH', `/beneficiaries/${id}`, admin.token, { status: 'EXITED' })).status).toBe(200);
    const exitedMs = await refusedOnSecond('/me', token);

    // A session deleted by SQL (an operator's fix, a purge) is refused everywhere too.
    const third = await staff(`revoke-sql-${run}`, 'TECHNICIAN');
    expect((await call(1, 'GET', '/installations?pageSize=1', third.token)).status).toBe(200);
    await withPg((c) => c.query('DELETE FROM sessions WHERE user_id = $1', [third.id]));
    const sqlMs = await refusedOnSecond('/installations?pageSize=1', third.token);

    console.log(
      `revocation seen by the second process after ${[disabledMs, signOutMs, exitedMs, sqlMs].map((ms) => ms.toFixed(0)).join(', ')} ms`,
    );
    for (const ms of [disabledMs, signOutMs, exitedMs, sqlMs]) expect(ms).toBeLessThan(1000);
  }, 120_000);

  it('a PIN reset, an ended guardianship and a ward who left take effect at once everywhere', async () => {
    const admin = await staff(`revoke-pin-admin-${run}`, 'ADMIN');
    const seed = 600_000_000 + (Date.now() % 300_000_000); // new people each run
    const created = await call(0, 'POST', '/beneficiaries', admin.token, {
      nationalCode: nationalCodeFor(seed),
      fullName: 'Cared-for Person',
      sheba: shebaFor(seed),
      province: 'yazd',
      targetGroup: 'OTHER',
    });
    expect(created.status).toBe(201);
    const id = created.json!.id as number;

    // The beneficiary's own PIN reset ends their sessions in every process.
    expect((await call(0, 'PUT', `/beneficiaries/${id}/pin`, admin.token, { pin: '571938' })).status).toBe(204);
    const signedIn = await call(0, 'POST', '/auth/beneficiary/sign-in', undefined, {
      nationalCode: nationalCodeFor(seed),
      pin: '571938',
    });
    const token = signedIn.json!.token as string;
    expect((await call(1, 'GET', '/me', token)).status).toBe(200);
    expect((await call(0, 'PUT', `/beneficiaries/${id}/pin`, admin.token, { pin: '602847' })).status).toBe(204);
    const pinMs = await refusedOnSecond('/me', token);

    // Their guardian, in the portal (a cookie), looks at them through the second process.
    const guardian = await guardianOf(admin.token, id, nationalCodeFor(seed + 1), '839201');
    const signedIn0 = await portalSignIn(0, guardian.nationalCode, '839201');
    expect(signedIn0.location).toBe('/portal/home');
    const home = await signedIn0.get(1, '/portal/home');
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('Cared-for Person');

    // The guardianship ends (through the first process): the second stops showing the person.
    const removed = await call(0, 'DELETE', `/beneficiaries/${id}/representatives/${guardian.id}`, admin.token);
    expect(removed.status).toBe(204);
    const endedMs = await redirectedOnSecond(signedIn0.get, '/portal/home', '/portal/choose');

    // The guardian's PIN is reset: their portal session ends in the second process too.
    expect((await call(0, 'PUT', `/representatives/${guardian.id}/pin`, admin.token, { pin: '713580' })).status).toBe(
      204,
    );
    const guardianPinMs = await redirectedOnSecond(signedIn0.get, '/portal/choose', '/portal');

    // Another guardian's ward leaves the program: the guardian's open page stops showing them, and a
    // fresh sign-in does not pick them (before, both still did).
    const ward = await call(0, 'POST', '/beneficiaries', admin.token, {
      nationalCode: nationalCodeFor(seed + 2),
      fullName: 'Leaving Ward',
      sheba: shebaFor(seed + 2),
      province: 'yazd',
      targetGroup: 'OTHER',
    });
    expect(ward.status).toBe(201);
    const wardId = ward.json!.id as number;
    const carer = await guardianOf(admin.token, wardId, nationalCodeFor(seed + 3), '462819');
    const carerIn = await portalSignIn(0, carer.nationalCode, '462819');
    expect(await (await carerIn.get(1, '/portal/home')).text()).toContain('Leaving Ward');
    expect((await call(0, 'PATCH', `/beneficiaries/${wardId}`, admin.token, { status: 'EXITED' })).status).toBe(200);
    const leftMs = await redirectedOnSecond(carerIn.get, '/portal/home', '/portal/choose');
    const again = await portalSignIn(1, carer.nationalCode, '462819');
    expect((await again.get(1, '/portal/home')).headers.get('location')).toBe('/portal/choose');
    expect(await (await again.get(1, '/portal/choose')).text()).not.toContain('Leaving Ward');

    const measured = [pinMs, endedMs, guardianPinMs, leftMs];
    console.log(
      `PIN reset, guardianship ended, guardian's PIN reset, ward left: seen by the second process after ${measured.map((ms) => ms.toFixed(0)).join(', ')} ms`,
    );
    for (const ms of measured) expect(ms).toBeLessThan(1000);
  }, 120_000);
});

/** A guardian (with a portal PIN) of the beneficiary, registered through the first process. */
async function guardianOf(token: string, beneficiaryId: number, nationalCode: string, pin: string) {
  const added = await call(0, 'POST', `/beneficiaries/${beneficiaryId}/representatives`, token, {
    nationalCode,
    fullName: 'Guardian Person',
    relation: 'LEGAL_GUARDIAN',
    pin,
  });
  expect(added.status).toBe(201);
  return { id: added.json!.id as number, nationalCode };
}

/** Signs in to the portal through process k as a browser does; `get` opens a page with its cookies. */
async function portalSignIn(k: number, nationalCode: string, pin: string) {
  const page = await fetch(url(k, '/portal'));
  const csrfCookie = page.headers
    .getSetCookie()
    .find((c) => c.startsWith('portal_csrf='))!
    .split(';')[0]!;
  const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())![1]!;
  const answer = await fetch(url(k, '/portal/sign-in'), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie },
    body: new URLSearchParams({ nationalCode, pin, csrf }).toString(),
  });
  const session = answer.headers.getSetCookie().find((c) => c.startsWith('portal_session='));
  expect(session, `portal sign-in answered ${answer.status}`).toBeDefined();
  const cookie = `${csrfCookie}; ${session!.split(';')[0]}`;
  return {
    location: answer.headers.get('location'),
    get: (on: number, path: string) => fetch(url(on, path), { redirect: 'manual', headers: { cookie } }),
  };
}

/** The second process sends a portal page's visitor elsewhere at once (polled briefly: the notification travels). */
async function redirectedOnSecond(
  get: (on: number, path: string) => Promise<Response>,
  path: string,
  to: string,
): Promise<number> {
  const started = performance.now();
  await waitFor(
    `${path} to redirect to ${to} on the second process`,
    () => get(1, path),
    (r) => r.status >= 300 && r.status < 400 && r.headers.get('location') === to,
    2000,
    20,
  );
  return performance.now() - started;
}
