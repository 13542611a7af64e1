// The alerts API against the real PostgreSQL: ranked by income at risk, technicians' actions on
// the timeline and in the audit log, state rules, failed deliveries visible; alerts raised
// through the entry other components use.
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeRaisedAlert, Deliverer, raiseAlert, readAlertsConfig } from '../../alerts/index';
import { createLogger } from '../../lib/logger';
import { bearer, staffToken, testApp } from '../../testing/api';
import { databaseUrl, registerFleet, withPg } from '../../testing/services';

let app: FastifyInstance;
let pool: pg.Pool;
const run = `${process.pid}`;
const token = { tech: '', operator: '' };
// Nothing listens on port 9 (discard): every webhook delivery fails.
const config = readAlertsConfig({
  ...process.env,
  ALERTS_WEBHOOK_URLS: 'http://127.0.0.1:9/hook',
  ALERTS_DELIVERY_MAX_ATTEMPTS: '2',
  ALERTS_DELIVERY_RETRY_SECONDS: '1',
  ALERTS_DELIVERY_TIMEOUT_MS: '2000',
});
const installations: number[] = [];
const codes: string[] = [];

beforeAll(async () => {
  app = await testApp();
  pool = new pg.Pool({ connectionString: databaseUrl(), max: 2 });
  token.tech = await staffToken(app, `tech-${run}`, 'TECHNICIAN');
  token.operator = await staffToken(app, `op-${run}`, 'OPERATOR');
  await registerFleet(`AL${run}-`, 2, { perInstallation: 1 });
  await withPg(async (c) => {
    const { rows } = await c.query<{ id: number; code: string }>(
      `SELECT id, code FROM installations WHERE code LIKE $1 ORDER BY code`,
      [`AL${run}-%`],
    );
    installations.push(...rows.map((r) => r.id));
    codes.push(...rows.map((r) => r.code));
    for (const id of installations)
      await c.query(
        `WITH c AS (INSERT INTO contracts (installation_id, reference, kind, start_date) VALUES ($1, $2, 'SUPPORT', '2025-01-01') RETURNING id)
         INSERT INTO tariff_periods (contract_id, effective_from, rial_per_kwh) SELECT id, '2025-01-01', 30000 FROM c`,
        [id, `AL${run}-${id}`],
      );
  });
});
afterAll(async () => {
  await app.close();
  await pool.end();
});

const call = (method: 'GET' | 'POST', url: string, who: string | null, payload?: object) =>
  app.inject({ method, url, headers: who ? bearer(who) : {}, ...(payload ? { payload } : {}) });

describe('alerts API', () => {
  let id = 0;
  it('lists a raised alert ranked by income at risk, priced at the installation tariff; raising again refreshes it', async () => {
    const raise = (kwh: number) =>
      raiseAlert(pool, config, {
        rule: 'METER_SHORTFALL',
        installationId: installations[0]!,
        cause: 'export_meter',
        severity: 'MAJOR',
        summary: 'export meter 18 % below telemetry',
        lostKwhPerDay: kwh,
        actor: 'settlements',
      });
    await raise(3);
    await raise(3.5);
    await raiseAlert(pool, config, {
      rule: 'METER_SHORTFALL',
      installationId: installations[1]!,
      cause: 'export_meter',
      severity: 'MINOR',
      summary: 'smaller shortfall',
      lostKwhPerDay: 0.5,
      actor: 'settlements',
    });
    expect((await call('GET', '/alerts', null)).statusCode).toBe(401);
    const r = await call('GET', `/alerts?rule=METER_SHORTFALL&pageSize=500`, token.tech);
    expect(r.statusCode, r.body).toBe(200);
    const mine = (r.json().items as { id: number; installation: string; lostRialsPerDay: string }[]).filter((a) =>
      a.installation.startsWith(`AL${run}-`),
    );
    expect(mine.map((a) => a.lostRialsPerDay)).toEqual(['105000', '15000']);
    id = mine[0]!.id;
  });

  it('acknowledge, assign, comment, mute and resolve: on the timeline and audited; closed alerts refuse changes', async () => {
    const act = (path: string, body: object, who = token.tech) => call('POST', `/alerts/${id}/${path}`, who, body);
    expect((await act('acknowledge', {})).json()).toMatchObject({
      state: 'ACKNOWLEDGED',
      acknowledgedBy: `tech-${run}`,
    });
    expect((await act('acknowledge', {})).statusCode).toBe(409);
    const unknown = await act('assign', { assignee: `nobody-${run}` });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().field).toBe('assignee');
    expect((await act('assign', { assignee: `tech-${run}` }, token.operator)).json().assignedTo).toBe(`tech-${run}`);
    expect((await act('comments', { text: 'meter replaced on Saturday' })).statusCode).toBe(200);
    expect((await act('mute', { minutes: 60 })).json().mutedUntil).not.toBeNull();
    expect((await act('mute', { minutes: -1 })).statusCode).toBe(400);
    expect((await act('resolve', { note: 'meter calibrated' })).json()).toMatchObject({
      state: 'RESOLVED',
      closedBy: `tech-${run}`,
    });
    expect((await act('mute', { minutes: 10 })).statusCode).toBe(409);

    const detail = (await call('GET', `/alerts/${id}`, token.tech)).json();
    expect(detail.events.map((e: { kind: string }) => e.kind)).toEqual([
      'opened',
      'acknowledged',
      'assigned',
      'commented',
      'muted',
      'resolved',
    ]);
    const { rows } = await pool.query(
      `SELECT action FROM audit_log WHERE entity = 'alert' AND entity_id = $1 ORDER BY id`,
      [String(id)],
    );
    expect(rows.map((r) => r.action)).toEqual([
      'alert.acknowledged',
      'alert.assigned',
      'alert.commented',
      'alert.muted',
      'alert.resolved',
    ]);
    expect((await call('GET', '/alerts/999999999', token.tech)).statusCode).toBe(404);
  });

  it('a raised alert closes through the entry when its cause goes away', async () => {
    expect(
      await closeRaisedAlert(pool, config, `METER_SHORTFALL:installation:${installations[1]}`, 'settlements'),
    ).toBe(true);
    const r = await call('GET', `/alerts?state=closed&installation=${codes[1]}`, token.tech);
    expect(r.json().items[0]).toMatchObject({ state: 'CLEARED', closedBy: 'settlements' });
  });

  it('failed deliveries are retried, then shown as FAILED with their error', async () => {
    const deliverer = new Deliverer(pool, config.notifications, createLogger('alerts-test', 'silent'));
    try {
      const now = Date.now() + 3_600_000; // past every back-off
      await deliverer.deliverDue(now);
      await deliverer.deliverDue(now + 60_000);
    } finally {
      deliverer.close();
    }
    const r = await call('GET', '/alerts/notifications?status=FAILED&pageSize=500', token.tech);
    const failed = (r.json().items as { alertId: number; attempts: number; lastError: string }[]).filter(
      (n) => n.alertId === id,
    );
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]!.attempts).toBe(2);
    expect(failed[0]!.lastError).toMatch(/fetch failed|ECONNREFUSED/);
  });
});
