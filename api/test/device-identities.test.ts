// Device identities, against the real broker and PostgreSQL: a device can never take a service's
// broker account, a dry run leaves no trace on the broker, orphaned device accounts are reconciled,
// and a lost broker administration connection answers 503 and reconnects, never ending the process.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMqttConfig } from '../../lib/config';
import { BrokerAdmin } from '../../lib/mqtt/broker-admin';
import { bearer, staffToken, testApp } from '../../testing/api';
import { brokerLogin, env, withPg } from '../../testing/services';

let app: FastifyInstance;
let admin: BrokerAdmin;
const token = { admin: '', technician: '', operator: '' };
const run = `${process.pid}`;
const adminConfig = readMqttConfig(env, 'ADMIN');
let installationId = 0;

beforeAll(async () => {
  app = await testApp();
  admin = await BrokerAdmin.connect(adminConfig);
  token.admin = await staffToken(app, `dev-admin-${run}`, 'ADMIN');
  token.technician = await staffToken(app, `dev-tech-${run}`, 'TECHNICIAN');
  token.operator = await staffToken(app, `dev-op-${run}`, 'OPERATOR');
  const site = await app.inject({
    method: 'POST',
    url: '/installations',
    headers: bearer(token.operator),
    payload: {
      code: `DEV${run}`,
      name: 'devices',
      province: 'yazd',
      latitude: 31.9,
      longitude: 54.36,
      dcCapacityKwp: 10,
      acRatingKw: 10,
    },
  });
  installationId = site.json().id;
});
afterAll(async () => {
  await app.close();
  await admin.close();
});

const register = (serial: string, who = token.technician) =>
  app.inject({
    method: 'POST',
    url: '/inverters',
    headers: bearer(who),
    payload: { serial, installationId, ratedAcW: 5000, model: 'SUN-5K' },
  });
const brokerHas = async (username: string) => !(await admin.run({ command: 'getClient', username })).error;

describe('device identities and service identities', () => {
  it('keep service accounts in a namespace no serial can take (schema and import say so)', async () => {
    for (const role of ['ADMIN', 'INGEST', 'FLEET'] as const) {
      const { username } = readMqttConfig(env, role);
      expect(username.startsWith('svc:'), username).toBe(true);
      expect((await register(username)).json()).toMatchObject({ statusCode: 400, field: 'serial' });
    }
    const csv = `serial,installation_code,rated_ac_w,model\nsvc:ingest,DEV${run},5000,x\n`;
    const imported = await app.inject({
      method: 'POST',
      url: '/imports/inverters',
      headers: { ...bearer(token.operator), 'content-type': 'text/csv' },
      payload: csv,
    });
    expect(imported.statusCode).toBe(422);
    expect(imported.json().errors[0]).toMatchObject({
      line: 2,
      column: 'serial',
      reason: expect.stringMatching(/svc:/),
    });
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(JSON.stringify(doc.paths['/inverters'].post)).toMatch(/svc:/);
  });

  it('refuse to re-key or delete a broker account that is not a device account they made', async () => {
    // Any account that provisioning did not make as a device (a service, an operator's tool...).
    const name = `TOOL${run}`;
    await admin.ensureClient(name, 'tool-password-1', ['ingest-service']);
    const refused = await register(name);
    expect(refused.json()).toMatchObject({ statusCode: 409, field: 'serial' });
    expect(refused.body).not.toMatch(/password"/);
    expect(await brokerLogin(name, 'tool-password-1')).toBe('connected'); // not re-keyed
    expect(
      (await app.inject({ method: 'GET', url: `/inverters/${name}`, headers: bearer(token.technician) })).statusCode,
    ).toBe(404);

    // An inverter row of that name (registered before this fix) cannot delete the account either.
    await withPg((c) =>
      c.query(
        `INSERT INTO inverters (serial, installation_id, rated_ac_w, model, status, updated_at) VALUES ($1, $2, 5000, 'x', 'ACTIVE', now())`,
        [name, installationId],
      ),
    );
    const decommission = await app.inject({
      method: 'POST',
      url: `/inverters/${name}/decommission`,
      headers: bearer(token.technician),
    });
    expect(decommission.json()).toMatchObject({ statusCode: 409, field: 'serial' });
    const credentials = await app.inject({
      method: 'POST',
      url: `/inverters/${name}/credentials`,
      headers: bearer(token.technician),
    });
    expect(credentials.json()).toMatchObject({ statusCode: 409, field: 'serial' });
    expect(await brokerLogin(name, 'tool-password-1')).toBe('connected');
    await withPg((c) => c.query(`UPDATE inverters SET status = 'DECOMMISSIONED' WHERE serial = $1`, [name]));
    await admin.run({ command: 'deleteClient', username: name });
  });
});

describe('dry runs', () => {
  it('leave no broker account and return no credentials', async () => {
    const serial = `DRY${run}`;
    const csv = `serial,installation_code,rated_ac_w,model\n${serial},DEV${run},5000,x\n`;
    const dry = await app.inject({
      method: 'POST',
      url: '/imports/inverters?dryRun=true',
      headers: { ...bearer(token.operator), 'content-type': 'text/csv' },
      payload: csv,
    });
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.json()).toMatchObject({ dryRun: true, created: 1, credentials: [] });
    expect(await brokerHas(serial)).toBe(false);
    const real = await app.inject({
      method: 'POST',
      url: '/imports/inverters',
      headers: { ...bearer(token.operator), 'content-type': 'text/csv' },
      payload: csv,
    });
    expect(real.json().credentials).toEqual([{ serial, password: expect.any(String) }]);
    expect(await brokerLogin(serial, real.json().credentials[0].password)).toBe('connected');
  });
});

describe('device account reconciliation', () => {
  it('removes accounts of no active inverter, reports inverters without one, and keeps the rest', async () => {
    const kept = `KEEP${run}`;
    expect((await register(kept)).statusCode).toBe(201);
    // An orphan: the account of a registration whose transaction failed after the broker step.
    const orphan = `ORPHAN${run}`;
    await admin.runMany([
      { command: 'createRole', rolename: `device-${orphan}` },
      {
        command: 'createClient',
        username: orphan,
        password: 'orphan-pass-1',
        roles: [{ rolename: `device-${orphan}` }],
      },
    ]);
    const foreign = `OTHER${run}`; // not a device account: never touched
    await admin.ensureClient(foreign, 'other-pass-1', ['ingest-service']);
    const lost = `NOACCT${run}`; // active in PostgreSQL, no account on the broker
    await withPg((c) =>
      c.query(
        `INSERT INTO inverters (serial, installation_id, rated_ac_w, model, updated_at) VALUES ($1, $2, 5000, 'x', now())`,
        [lost, installationId],
      ),
    );

    const forbidden = await app.inject({
      method: 'POST',
      url: '/inverters/reconcile',
      headers: bearer(token.technician),
    });
    expect(forbidden.statusCode).toBe(403);
    const report = await app.inject({ method: 'POST', url: '/inverters/reconcile', headers: bearer(token.admin) });
    expect(report.statusCode, report.body).toBe(200);
    expect(report.json().removed).toContain(orphan);
    expect(report.json().removed).not.toContain(kept);
    expect(report.json().removed).not.toContain(foreign);
    expect(report.json().missing).toContain(lost);
    expect(await brokerHas(orphan)).toBe(false);
    expect(await brokerHas(kept)).toBe(true);
    expect(await brokerHas(foreign)).toBe(true);
    const again = (
      await app.inject({ method: 'POST', url: '/inverters/reconcile', headers: bearer(token.admin) })
    ).json();
    expect(again.removed).toEqual([]);
    await admin.run({ command: 'deleteClient', username: foreign });
    await withPg((c) => c.query(`UPDATE inverters SET status = 'DECOMMISSIONED' WHERE serial = $1`, [lost]));
  });
});

describe('broker administration connection', () => {
  it('answers 503 when the broker is unreachable, without ending the process', async () => {
    const offline = await testApp({ MQTT_URL: 'mqtt://127.0.0.1:1' });
    try {
      const technician = await staffToken(offline, `dev-tech-${run}`, 'TECHNICIAN');
      const r = await offline.inject({
        method: 'POST',
        url: '/inverters',
        headers: bearer(technician),
        payload: { serial: `OFF${run}`, installationId, ratedAcW: 5000, model: 'x' },
      });
      expect(r.json()).toMatchObject({ statusCode: 503, message: expect.stringMatching(/broker is unavailable/) });
      const none = await withPg((c) => c.query('SELECT 1 FROM inverters WHERE serial = $1', [`OFF${run}`]));
      expect(none.rowCount).toBe(0);
    } finally {
      await offline.close();
    }
  });

  it('reconnects after losing it (the account kicked mid-use), and a kicked command fails instead of killing the process', async () => {
    expect((await register(`BEFORE${run}`)).statusCode).toBe(201);
    // Changing the administration account's roles makes the broker drop every connection of it:
    // the API's, and this test's own (whose command may be the one in flight).
    const kicker = await BrokerAdmin.connect(adminConfig);
    await kicker
      .run({ command: 'modifyClient', username: adminConfig.username, roles: [{ rolename: 'admin' }] })
      .catch((error: Error) => expect(error.name).toBe('BrokerUnavailable'));
    await new Promise((r) => setTimeout(r, 300));
    expect(kicker.usable).toBe(false);
    await expect(kicker.run({ command: 'listRoles' })).rejects.toThrow(/unavailable/);
    const after = await register(`AFTER${run}`);
    expect(after.statusCode, after.body).toBe(201);
    admin = await BrokerAdmin.connect(adminConfig);
  });
});
