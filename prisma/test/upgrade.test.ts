// Upgrades without loss. The database of an earlier release (fixtures/release-*: installed by that
// release's own setup and filled by its own code, capture-release.sh) is upgraded as setup upgrades
// a host (prisma migrate deploy, then the application role's grants), and then: the migrations the
// release had applied are still the same files, every row it wrote is still there unchanged (the
// rows a migration rewrites on purpose are checked for that purpose), the new rules hold for the old
// rows, and today's API, billing and payouts work on the old ledger.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MonthId } from '../../lib/program/solar-hijri';
import { payoutFile } from '../../billing';
import { appAccountOf, ensureAppRole } from '../../lib/db-roles';
import { bearer, staffToken, testApp } from '../../testing/api';
import { asOwner, dropPgDatabase, emptyPgDatabase, pgUrlOf, withPg } from '../../testing/services';
import { loadRelease, newestRelease, releaseLogins, type TableState, tableStates } from '../../testing/release-fixture';

const release = newestRelease;
const logins = releaseLogins();
const TOKEN = 'UPGRADE-FIXTURE-TOKEN'; // in the webhook URL the release stored with its notifications
/** Rows a migration rewrites on purpose (20261205151500_alert_recipient_labels): compared without these columns. */
const REWRITTEN: Record<string, string[]> = {
  alert_notifications: ['recipient', 'last_error'],
  alert_delivery_attempts: ['error'],
  // One form for the audit log (entity.verb by a kind of actor): mapped once by its migration.
  audit_log: ['actor', 'action'],
};

const database = `upgrade_check_${process.pid}`;
const appUrl = pgUrlOf(database);
const ownerUrl = asOwner(appUrl);
const owner = <T>(fn: (c: pg.Client) => Promise<T>) => withPg(fn, ownerUrl);

let before: Map<string, TableState>;
let applied: { migration_name: string; checksum: string }[];
let deployOutput: string;

beforeAll(async () => {
  await emptyPgDatabase(database);
  await owner(async (c) => {
    await loadRelease(c);
    before = await tableStates(c, { ignore: REWRITTEN });
    applied = (
      await c.query<{ migration_name: string; checksum: string }>(
        'SELECT migration_name, checksum FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY migration_name',
      )
    ).rows;
  });
  // What setup runs on an upgrade: the migrations, then the application role's grants.
  deployOutput = execFileSync('npx', ['prisma', 'migrate', 'deploy'], {
    env: { ...process.env, DATABASE_OWNER_URL: ownerUrl },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await owner((c) => ensureAppRole(c, appAccountOf(appUrl)));
}, 180_000);
afterAll(() => dropPgDatabase(database));

describe(`upgrade from the release ${release.replace('release-', '')}`, () => {
  it('applies every later migration and leaves the released ones as they were applied', async () => {
    const migrations = readdirSync('prisma/migrations').filter((d) => /^\d{14}_/.test(d));
    expect(applied.length).toBeGreaterThan(0);
    const later = migrations.filter((m) => !applied.some((a) => a.migration_name === m));
    expect(later.length).toBeGreaterThan(0); // else the fixture is not of an earlier release
    for (const m of later) expect(deployOutput).toContain(m);
    // A released migration edited afterwards would leave upgraded hosts with another schema than new ones.
    for (const { migration_name, checksum } of applied) {
      const text = readFileSync(`prisma/migrations/${migration_name}/migration.sql`);
      expect(createHash('sha256').update(text).digest('hex'), migration_name).toBe(checksum);
    }
    const status = execFileSync('npx', ['prisma', 'migrate', 'status'], {
      env: { ...process.env, DATABASE_OWNER_URL: ownerUrl },
      encoding: 'utf8',
    });
    expect(status).toMatch(/up to date/);
  });

  it('keeps every row the release wrote, unchanged', async () => {
    // The fixture covers the ledger from registry to payouts, alerts and settlements.
    for (const table of [
      'installations',
      'beneficiaries',
      'shares',
      'loans',
      'billing_months',
      'statements',
      'statement_lines',
      'payout_rows',
      'alerts',
      'alert_notifications',
      'utility_settlements',
      'audit_log',
    ])
      expect(before.get(table)?.rows, table).toBeGreaterThan(0);
    const columnsOf = new Map([...before].map(([table, s]) => [table, s.columns]));
    const after = await owner((c) => tableStates(c, { columnsOf, ignore: REWRITTEN }));
    for (const [table, state] of before) {
      expect(after.get(table)?.rows, table).toBe(state.rows);
      expect(after.get(table)?.md5, table).toBe(state.md5);
    }
  });

  it("maps the audit log's rows to entity.verb actions by actors of a kind", async () => {
    const { rows } = await owner((c) =>
      c.query<{ actor: string; action: string }>('SELECT actor, action FROM audit_log'),
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.action).toMatch(/^[a-z][a-z_]*\.[a-z][a-z_]*$/);
      expect(r.actor).toMatch(/^(staff|beneficiary|cli|service):./);
    }
  });

  it('relabels the stored webhook notifications: no bot token is left in the database', async () => {
    const { rows } = await owner((c) =>
      c.query<{ channel: string; recipient: string }>('SELECT channel::text, recipient FROM alert_notifications'),
    );
    expect(rows.filter((r) => r.channel === 'WEBHOOK').length).toBeGreaterThan(0);
    for (const r of rows)
      if (r.channel === 'WEBHOOK') expect(r.recipient).toMatch(/^http:\/\/127\.0\.0\.1:9 #[0-9a-f]{12}$/);
      else expect(r.recipient).toBe('ops@example.org');
    const dump = await owner(async (c) => {
      const tables = ['alert_notifications', 'alert_delivery_attempts', 'alert_events', 'alerts', 'audit_log'];
      const rows: string[] = [];
      for (const t of tables)
        rows.push(...(await c.query<{ row: string }>(`SELECT ${t}::text AS row FROM ${t}`)).rows.map((r) => r.row));
      return rows.join('\n');
    });
    expect(dump).not.toContain(TOKEN);
  });

  it('holds the new rules for the old rows: a recorded payment stays, periods never overlap', async () => {
    await owner(async (c) => {
      const paid = await c.query<{ id: number; installation_id: number; period_from: Date }>(
        'SELECT id, installation_id, period_from FROM utility_settlements WHERE paid_on IS NOT NULL LIMIT 1',
      );
      const settlement = paid.rows[0]!;
      await expect(
        c.query('UPDATE utility_settlements SET amount_rials = amount_rials + 1 WHERE id = $1', [settlement.id]),
      ).rejects.toThrow(/cannot be changed or deleted/);
      await expect(
        c.query(
          `INSERT INTO utility_settlements (installation_id, period_from, period_until, metered_wh, amount_rials, reference)
           VALUES ($1, $2::date + 1, $2::date + 30, 1, 1, 'UPGRADE-OVERLAP')`,
          [settlement.installation_id, settlement.period_from],
        ),
      ).rejects.toThrow(/utility_settlements_no_overlap/);
    });
  });

  it("serves today's API on the old ledger: staff, a beneficiary's statements, payout files that reconcile", async () => {
    const app = await testApp({ DATABASE_URL: appUrl });
    const pool = new pg.Pool({ connectionString: appUrl, max: 2 });
    try {
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      const token = await staffToken(app, 'upgrade-admin', 'ADMIN', appUrl);
      const months = (await app.inject({ method: 'GET', url: '/billing/months', headers: bearer(token) })).json() as {
        month: string;
        status: string;
      }[];
      const stored = await owner(
        async (c) =>
          (await c.query<{ month: string; status: string }>('SELECT month, status::text FROM billing_months')).rows,
      );
      expect(months.map((m) => `${m.month} ${m.status}`).sort()).toEqual(
        stored.map((m) => `${m.month} ${m.status}`).sort(),
      );
      expect(stored.filter((m) => m.status === 'PAID').length).toBeGreaterThan(0);

      // The paid month's file still reconciles with what the release recorded; a closed month gets its batch today.
      for (const m of stored.filter((s) => s.status !== 'DRAFT')) {
        const { summary } = await payoutFile(pool, m.month as MonthId, 'upgrade-test', { create: true });
        expect(summary.reconciles, m.month).toBe(true);
      }

      const login = logins[0]!;
      const signIn = await app.inject({
        method: 'POST',
        url: '/auth/beneficiary/sign-in',
        payload: { nationalCode: login.nationalCode, pin: login.pin },
      });
      expect(signIn.statusCode, signIn.body).toBe(200);
      const statements = (
        await app.inject({ method: 'GET', url: '/me/statements', headers: bearer(signIn.json().token) })
      ).json() as { month: string; payableRials: string }[];
      const own = await owner(
        async (c) =>
          (
            await c.query<{ month: string; payable: string }>(
              `SELECT s.month, s.payable_rials::text AS payable FROM statements s JOIN beneficiaries b ON b.id = s.beneficiary_id
                WHERE b.national_code = $1`,
              [login.nationalCode],
            )
          ).rows,
      );
      expect(own.length).toBeGreaterThan(0);
      expect(statements.map((s) => `${s.month} ${s.payableRials}`).sort()).toEqual(
        own.map((s) => `${s.month} ${s.payable}`).sort(),
      );
    } finally {
      await pool.end();
      await app.close();
    }
  }, 120_000);
});
