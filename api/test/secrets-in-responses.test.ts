// No response carries a secret: with notifications queued for webhooks whose URLs hold a bot token
// and a key (and failed through a relay that echoes the URL), a device's and a gateway's broker passwords issued,
// a PIN and staff passwords set, every GET route of the OpenAPI document is called as each role and
// anonymously, and each answer is searched for those secrets and their stored hashes.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { OpenAPIV3_1 } from 'openapi-types';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Deliverer, raiseAlert, readAlertsConfig } from '../../alerts/index';
import { nationalCodeFor, shebaFor } from '../../lib/identifiers/validate';
import { createLogger } from '../../lib/logger';
import { bearer, staffToken, testApp } from '../../testing/api';
import { databaseUrl, registerFleet, withPg } from '../../testing/services';

const run = `${process.pid}`;
const sentinels = {
  botToken: `BotRespSentinel${run}qX2`,
  webhookKey: `KeyRespSentinel${run}zN5`,
  pin: '468024',
};
let app: FastifyInstance;
let relay: Server;
const tokens: Record<string, string> = {};
const ids = { alert: 0, beneficiary: 0, installation: 0, code: '', serial: '' };
const secrets: string[] = [];

beforeAll(async () => {
  // A careless relay: refuses every message and echoes the URL it was called with.
  relay = createServer((req, res) => {
    req.resume();
    res.writeHead(500).end(`relay failed for ${req.url}`);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const port = (relay.address() as AddressInfo).port;
  const alertsConfig = readAlertsConfig({
    ...process.env,
    ALERTS_WEBHOOK_URLS: `http://127.0.0.1:${port}/bot123456789:${sentinels.botToken}/sendMessage,http://127.0.0.1:${port}/relay?key=${sentinels.webhookKey}`,
    ALERTS_DELIVERY_TIMEOUT_MS: '2000',
  });

  app = await testApp({ API_SIGN_IN_RATE_LIMIT: '1000' });
  tokens.ADMIN = await staffToken(app, `resp-admin-${run}`, 'ADMIN');
  tokens.OPERATOR = await staffToken(app, `resp-op-${run}`, 'OPERATOR');
  tokens.TECHNICIAN = await staffToken(app, `resp-tech-${run}`, 'TECHNICIAN');

  const [serial] = await registerFleet(`RESP${run}-`, 1, { perInstallation: 1 });
  const installation = await withPg(async (c) => {
    const { rows } = await c.query<{ id: number; code: string }>(
      'SELECT i.id, i.code FROM installations i JOIN inverters v ON v.installation_id = i.id WHERE v.serial = $1',
      [serial],
    );
    return rows[0]!;
  });
  ids.installation = installation.id;
  ids.code = installation.code;
  // A new inverter: its broker password is in this one answer only.
  ids.serial = `RESPNEW${run}`;
  const created = await app.inject({
    method: 'POST',
    url: '/inverters',
    headers: bearer(tokens.TECHNICIAN),
    payload: { serial: ids.serial, installationId: ids.installation, ratedAcW: 5000, model: 'test' },
  });
  expect(created.statusCode, created.body).toBe(201);
  secrets.push(created.json().mqtt.password as string);
  // A gateway's broker account for it: its password, too, is in that one answer only.
  const gateway = await app.inject({
    method: 'PUT',
    url: `/gateways/resp-${run}`,
    headers: bearer(tokens.TECHNICIAN),
    payload: { serials: [ids.serial] },
  });
  expect(gateway.statusCode, gateway.body).toBe(200);
  secrets.push(gateway.json().password as string);

  const nationalCode = nationalCodeFor(810_000 + (process.pid % 10_000));
  const beneficiary = await app.inject({
    method: 'POST',
    url: '/beneficiaries',
    headers: bearer(tokens.OPERATOR),
    payload: {
      nationalCode,
      fullName: 'Response Crawler',
      sheba: shebaFor(810_000 + (process.pid % 10_000)),
      province: 'yazd',
      targetGroup: 'OTHER',
    },
  });
  expect(beneficiary.statusCode, beneficiary.body).toBe(201);
  ids.beneficiary = beneficiary.json().id;
  const pin = await app.inject({
    method: 'PUT',
    url: `/beneficiaries/${ids.beneficiary}/pin`,
    headers: bearer(tokens.OPERATOR),
    payload: { pin: sentinels.pin },
  });
  expect(pin.statusCode, pin.body).toBe(204);
  const signIn = await app.inject({
    method: 'POST',
    url: '/auth/beneficiary/sign-in',
    payload: { nationalCode, pin: sentinels.pin },
  });
  expect(signIn.statusCode, signIn.body).toBe(200);
  tokens.beneficiary = signIn.json().token;

  const pool = new pg.Pool({ connectionString: databaseUrl(), max: 2 });
  const key = await raiseAlert(pool, alertsConfig, {
    rule: 'METER_SHORTFALL',
    installationId: ids.installation,
    cause: 'export_meter',
    severity: 'MAJOR',
    summary: 'export meter below telemetry',
    lostKwhPerDay: 1,
    actor: 'settlements',
  });
  ids.alert = Number(
    (await pool.query<{ id: string }>('SELECT id::text FROM alerts WHERE key = $1', [key])).rows[0]!.id,
  );
  const deliverer = new Deliverer(pool, alertsConfig.notifications, createLogger('responses-test', 'silent'));
  await deliverer.deliverDue(Date.now() + 60_000).finally(() => deliverer.close());
  // The stored forms of secrets: password, PIN and token hashes.
  await withPg(async (c) => {
    const users = await c.query<{ h: string }>(`SELECT password_hash AS h FROM users WHERE username LIKE $1`, [
      `resp-%-${run}`,
    ]);
    const pins = await c.query<{ h: string }>('SELECT pin_hash AS h FROM beneficiaries WHERE id = $1', [
      ids.beneficiary,
    ]);
    const sessions = await c.query<{ h: string }>('SELECT token_hash AS h FROM sessions');
    secrets.push(...[...users.rows, ...pins.rows, ...sessions.rows].map((r) => r.h).filter(Boolean));
  });
  await pool.end();
  secrets.push(sentinels.botToken, sentinels.webhookKey, 'long-enough-password', ...Object.values(tokens));
}, 120_000);
afterAll(async () => {
  await app?.close();
  await new Promise((resolve) => relay?.close(resolve));
});

/** A concrete URL for an OpenAPI path, its parameters filled with this suite's records. */
function concrete(path: string, month: string): string {
  return path
    .replace('/alerts/{id}', `/alerts/${ids.alert}`)
    .replace('/beneficiaries/{id}', `/beneficiaries/${ids.beneficiary}`)
    .replace('/installations/{id}', `/installations/${ids.installation}`)
    .replace('/inverters/{serial}', `/inverters/${ids.serial}`)
    .replace('{month}', month)
    .replace('{code}', ids.code)
    .replace(/\{[^}]+\}/g, '1');
}

describe('secrets in responses', () => {
  it('no GET route answers any role with a token, password, key or their hashes', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as OpenAPIV3_1.Document;
    const paths = Object.entries(doc.paths ?? {})
      .filter(([, item]) => item?.get)
      .map(([path]) => path);
    expect(paths.length).toBeGreaterThan(25);
    const months = (await app.inject({ method: 'GET', url: '/billing/months', headers: bearer(tokens.ADMIN!) })).json();
    const month = (months.items?.[0]?.month as string | undefined) ?? '1405-09';
    const found: string[] = [];
    let answered = 0;
    for (const [role, token] of [...Object.entries(tokens), ['anonymous', null] as const])
      for (const path of paths) {
        const url = concrete(path, month);
        const r = await app.inject({ method: 'GET', url, headers: token ? bearer(token) : {} });
        if (r.statusCode === 200) answered += 1;
        for (const secret of secrets)
          if (secret && r.body.includes(secret)) found.push(`${role} GET ${url}: ${secret.slice(0, 8)}…`);
      }
    // The crawl is real: the admin alone gets most routes, and the masked recipients are shown.
    expect(answered).toBeGreaterThan(paths.length);
    const detail = await app.inject({
      method: 'GET',
      url: `/alerts/${ids.alert}`,
      headers: bearer(tokens.TECHNICIAN!),
    });
    expect(detail.statusCode, `${ids.alert} ${detail.body}`).toBe(200);
    const recipients = (detail.json().notifications as { recipient: string; lastError: string | null }[]).map(
      (n) => n.recipient,
    );
    expect(recipients).toHaveLength(2);
    for (const r of recipients) expect(r).toMatch(/^http:\/\/127\.0\.0\.1:\d+ #[0-9a-f]{12}$/);
    expect(found).toEqual([]);
  }, 120_000);
});
