// The services as setup leaves them trust nobody by default: PostgreSQL asks every connection for
// its password (the socket too, in a directory only its own user reaches), the platform connects
// as a role that owns no table and so cannot switch off the database's guards, and what the
// platform writes under .data/ is unreadable by other local users.
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asOwner, env, freshPgDatabase } from '../../testing/services';

let appUrl: string;
let app: pg.Client;

beforeAll(async () => {
  appUrl = await freshPgDatabase('trust_nobody_test');
  // A closed month and an audit row, written as the owner (the billing run's part is not under test).
  const owner = new pg.Client({ connectionString: asOwner(appUrl) });
  await owner.connect();
  await owner.query(`INSERT INTO billing_months (month, status, computed_at, digest, installations, beneficiaries,
    energy_wh, gross_rials, net_rials, pool_rials, payable_rials, incomplete)
    VALUES ('1404-01', 'DRAFT', now(), repeat('0', 64), 0, 0, 0, 0, 0, 0, 0, 0)`);
  await owner.query(
    `UPDATE billing_months SET status = 'CLOSED', closed_at = now(), closed_by = 'test' WHERE month = '1404-01'`,
  );
  await owner.query(`INSERT INTO audit_log (actor, action, entity, entity_id) VALUES ('test', 'test', 'test', '1')`);
  await owner.end();
  app = new pg.Client({ connectionString: appUrl });
  await app.connect();
});
afterAll(async () => {
  await app?.end();
});

describe('services trust nobody by default', () => {
  it('connects the platform as a role that owns no table and cannot switch off the guards', async () => {
    const me = (
      await app.query(
        'SELECT current_user AS role, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS super',
      )
    ).rows[0];
    expect(me).toEqual({ role: new URL(env.DATABASE_URL!).username, super: false });
    expect(
      (await app.query('SELECT count(*)::int AS n FROM pg_tables WHERE tableowner = current_user')).rows[0].n,
    ).toBe(0);
    for (const sql of [
      'ALTER TABLE billing_months DISABLE TRIGGER billing_months_lifecycle',
      'ALTER TABLE audit_log DISABLE TRIGGER ALL',
      'ALTER TABLE statements DISABLE TRIGGER USER',
      'SET session_replication_role = replica',
    ])
      await expect(app.query(sql), sql).rejects.toThrow(/must be owner|permission denied/);
    await expect(app.query('TRUNCATE billing_months CASCADE')).rejects.toThrow(/permission denied/);
    await expect(app.query(`UPDATE billing_months SET payable_rials = 1 WHERE month = '1404-01'`)).rejects.toThrow(
      /is closed/,
    );
    await expect(app.query(`DELETE FROM audit_log`)).rejects.toThrow(/permission denied/);
    await expect(app.query(`UPDATE audit_log SET actor = 'someone else'`)).rejects.toThrow(/permission denied/);
    const platform = new pg.Client({ connectionString: env.DATABASE_URL });
    await platform.connect();
    await expect(platform.query('SELECT * FROM _prisma_migrations')).rejects.toThrow(/permission denied/);
    await platform.end();
    // What the platform does need still works.
    await app.query(`INSERT INTO audit_log (actor, action, entity, entity_id) VALUES ('app', 'test', 'test', '2')`);
    expect((await app.query('SELECT count(*)::int AS n FROM audit_log')).rows[0].n).toBe(2);
  });

  it('asks every PostgreSQL connection for its password, the socket too, in a directory only its user reaches', async () => {
    const socketDir = join(env.SOLAR_DATA_DIR!, 'postgres', 'run');
    expect(lstatSync(socketDir).mode & 0o077).toBe(0);
    const { port, pathname } = new URL(appUrl);
    const viaSocket = new pg.Client({
      host: socketDir,
      port: Number(port),
      user: new URL(appUrl).username,
      database: pathname.slice(1),
      password: 'wrong',
    });
    await expect(viaSocket.connect()).rejects.toThrow(/password authentication failed/);
    const noPassword = new pg.Client({ host: socketDir, port: Number(port), user: 'solar', database: 'postgres' });
    await expect(noPassword.connect()).rejects.toThrow(/password/);
  });

  it('keeps data, logs and secrets unreadable by other local users', () => {
    const dataDir = env.SOLAR_DATA_DIR!;
    const exposed: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        const stat = lstatSync(path);
        if (stat.isSymbolicLink() || stat.isSocket()) continue;
        // Certificates are public (the monitor reads them as the platform's user); their keys are not.
        const certificate = /\/tls\/[^/]+\.crt$/.test(path) && !(stat.mode & 0o022);
        if (stat.mode & 0o066 && !certificate) exposed.push(`${path} ${(stat.mode & 0o777).toString(8)}`);
        if (entry.isDirectory()) walk(path);
      }
    };
    walk(dataDir);
    expect(exposed).toEqual([]);
    // The profile directory is traversable for the services' own users, never listable.
    expect(lstatSync(dataDir).mode & 0o066).toBe(0);
  });
});
