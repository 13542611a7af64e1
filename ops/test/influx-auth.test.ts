// InfluxDB as setup leaves it trusts nobody by default: authentication is on, and each user has
// the one kind of access its components need (lib/influx/users.ts): the reader queries, the writer
// (ingest) writes, only the admin administers; anonymous requests and wrong passwords are refused.
// Also the path of a machine set up before authentication: an InfluxDB with data and no users gets
// its first admin from setup, and the data is kept.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InfluxConfig, readInfluxConfig } from '../../lib/config';
import { InfluxClient, InfluxError } from '../../lib/influx/client';
import { ensureInfluxUsers, InfluxAdminRefused } from '../../lib/influx/users';
import { env, freshInfluxDatabase, influxAs, waitFor } from '../../testing/services';

const DATABASE = env.INFLUX_DATABASE ?? 'solar'; // the platform's own database, as setup left it
const SCRATCH = 'influx_auth_test';
const accounts = () => ({
  admin: readInfluxConfig(env, 'ADMIN'),
  writer: readInfluxConfig(env, 'WRITER'),
  reader: readInfluxConfig(env, 'READER'),
});
const at = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
const probe = `auth_probe,serial=AUTHPROBE value=1 ${at}000000`;

/** The HTTP status InfluxDB answers (200/204 when it does it). */
async function status(work: Promise<unknown>): Promise<number | null> {
  try {
    await work;
    return 200;
  } catch (error) {
    if (error instanceof InfluxError) return error.status;
    throw error;
  }
}

const admin = () => influxAs('ADMIN');
const reader = () => influxAs('READER');
const writer = () => influxAs('WRITER');
const anonymous = () =>
  new InfluxClient({ ...readInfluxConfig(env, 'READER'), username: undefined, password: undefined });

beforeAll(async () => {
  await freshInfluxDatabase(SCRATCH);
});
afterAll(async () => {
  await admin().query(`DROP MEASUREMENT "auth_probe"`);
  await admin().query(`DROP DATABASE "${SCRATCH}"`, { database: null });
});

describe('InfluxDB trusts nobody by default', () => {
  it('refuses anonymous queries and writes (401)', async () => {
    expect(await status(anonymous().query('SHOW DATABASES', { database: null }))).toBe(401);
    expect(await status(anonymous().query('SELECT count("energy_wh_total") FROM "telemetry"'))).toBe(401);
    expect(await status(anonymous().write(probe))).toBe(401);
    // Read directly too: no credentials at all, as curl would send.
    const response = await fetch(`${env.INFLUX_URL}/query?q=${encodeURIComponent('SHOW DATABASES')}`);
    expect(response.status).toBe(401);
  });

  it('refuses a wrong password (401), for every user', async () => {
    for (const role of ['ADMIN', 'WRITER', 'READER'] as const) {
      const wrong = new InfluxClient({ ...readInfluxConfig(env, role), password: 'not-the-password' });
      expect(await status(wrong.query('SHOW DATABASES', { database: null })), role).toBe(401);
      expect(await status(wrong.write(probe)), role).toBe(401);
    }
  });

  it('lets the reader query but not write (403), nor create or drop databases, nor manage users', async () => {
    expect(await status(reader().query('SELECT count("energy_wh_total") FROM "telemetry"'))).toBe(200);
    expect(await status(reader().write(probe))).toBe(403);
    expect(await status(reader().query(`DROP DATABASE "${SCRATCH}"`, { database: null }))).toBe(403);
    expect(await status(reader().query('CREATE DATABASE "reader_made"', { database: null }))).toBe(403);
    expect(await status(reader().query(`DROP MEASUREMENT "telemetry"`))).toBe(403);
    expect(await status(reader().query('SHOW USERS', { database: null }))).toBe(403);
    expect(await status(reader().query(`CREATE USER "intruder" WITH PASSWORD 'x' WITH ALL PRIVILEGES`))).toBe(403);
    // SELECT ... INTO writes: refused too.
    expect(
      await status(
        reader().query('SELECT "energy_wh_total" INTO "stolen" FROM "telemetry" WHERE time > now() - 1m', {
          method: 'POST',
        }),
      ),
    ).toBe(403);
  });

  it('lets the writer write but not query, nor administer', async () => {
    expect(await status(writer().write(probe))).toBe(200);
    expect(await status(writer().query('SELECT * FROM "auth_probe"'))).toBe(403);
    expect(await status(writer().query(`DROP DATABASE "${SCRATCH}"`, { database: null }))).toBe(403);
    expect(await status(writer().query('SHOW USERS', { database: null }))).toBe(403);
    expect(await admin().rows('SELECT "value" FROM "auth_probe"')).toEqual([{ time: at, value: 1 }]);
  });

  it("gives a test's own database the same access (reader READ, writer WRITE), so components work with their users", async () => {
    expect(await status(influxAs('WRITER', SCRATCH).write(probe))).toBe(200);
    expect(await influxAs('READER', SCRATCH).rows('SELECT "value" FROM "auth_probe"')).toEqual([
      { time: at, value: 1 },
    ]);
    expect(await status(influxAs('READER', SCRATCH).write(probe))).toBe(403);
    expect(await status(influxAs('WRITER', SCRATCH).query('SELECT * FROM "auth_probe"'))).toBe(403);
  });

  it('lets the admin administer: databases, retention policies, users', async () => {
    const a = admin();
    await a.query('CREATE DATABASE "admin_made"', { database: null });
    await a.query(`CREATE RETENTION POLICY "short" ON "admin_made" DURATION 1h REPLICATION 1`, { database: null });
    const [databases = []] = await a.query('SHOW DATABASES', { database: null });
    expect(databases[0]!.values.flat()).toContain('admin_made');
    await a.query('DROP DATABASE "admin_made"', { database: null });
    const users = await a.rows('SHOW USERS');
    expect(users).toEqual(
      expect.arrayContaining([
        { user: env.INFLUX_ADMIN_USERNAME, admin: true },
        { user: env.INFLUX_WRITER_USERNAME, admin: false },
        { user: env.INFLUX_READER_USERNAME, admin: false },
      ]),
    );
  });

  it('setup takes away anything more than each user needs, and is idempotent', async () => {
    const a = admin();
    const { writer: w, reader: r } = { writer: env.INFLUX_WRITER_USERNAME!, reader: env.INFLUX_READER_USERNAME! };
    try {
      await a.query(`GRANT ALL ON "${DATABASE}" TO "${r}"`, { database: null });
      await a.query(`GRANT ALL ON "${SCRATCH}" TO "${w}"`, { database: null });
      await a.query(`GRANT ALL PRIVILEGES TO "${w}"`, { database: null });
      expect(await status(reader().write(probe))).toBe(200); // too much, for now
      const changes = await ensureInfluxUsers(accounts());
      expect(changes).toEqual(
        expect.arrayContaining([
          `${w}: admin privilege revoked`,
          `${r}: ALL PRIVILEGES on ${DATABASE} reduced to READ`,
          `${w}: ALL PRIVILEGES on ${SCRATCH} reduced to WRITE`,
        ]),
      );
      expect(await status(reader().write(probe))).toBe(403);
      expect(await status(writer().query('SHOW USERS', { database: null }))).toBe(403);
      expect(await a.rows(`SHOW GRANTS FOR "${r}"`)).toContainEqual({ database: DATABASE, privilege: 'READ' });
      expect(await a.rows(`SHOW GRANTS FOR "${w}"`)).toContainEqual({ database: DATABASE, privilege: 'WRITE' });
      expect(await ensureInfluxUsers(accounts())).toEqual([]);
    } finally {
      await ensureInfluxUsers(accounts());
    }
  });

  it('resets a user whose password is not the configured one, and refuses a wrong admin password saying how to fix it', async () => {
    const r = env.INFLUX_READER_USERNAME!;
    await admin().query(`SET PASSWORD FOR "${r}" = 'changed-behind-our-back'`, { database: null });
    expect(await status(reader().query('SHOW DATABASES', { database: null }))).toBe(401);
    expect(await ensureInfluxUsers(accounts())).toEqual([`${r}: password set from secrets.env`]);
    expect(await status(reader().query('SHOW DATABASES', { database: null }))).toBe(200);

    const wrongAdmin = { ...accounts(), admin: { ...accounts().admin, password: 'not-the-admin-password' } };
    const refusal = await ensureInfluxUsers(wrongAdmin).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(InfluxAdminRefused);
    expect((refusal as Error).message).toMatch(/refused the admin .*401.*INFLUX_ADMIN_PASSWORD.*secrets\.env/);
    expect((refusal as Error).message).toMatch(/auth-enabled = false.*SET PASSWORD/);
    expect((refusal as Error).message).not.toContain('not-the-admin-password');
  });
});

// A scratch influxd of its own: the only way to see an InfluxDB with no users at all.
describe('a machine set up before authentication', () => {
  let dir: string;
  let influxd: ChildProcess | undefined;
  let port = 0;
  const freePort = () =>
    new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
  const start = async (auth: boolean) => {
    const [http, rpc] = [port || (await freePort()), await freePort()];
    port = http;
    writeFileSync(
      join(dir, 'influxdb.conf'),
      `reporting-disabled = true\nbind-address = "127.0.0.1:${rpc}"\n[meta]\n  dir = "${dir}/meta"\n[data]\n  ` +
        `dir = "${dir}/data"\n  wal-dir = "${dir}/wal"\n[http]\n  bind-address = "127.0.0.1:${http}"\n  ` +
        `auth-enabled = ${auth}\n  log-enabled = false\n[logging]\n  level = "error"\n`,
    );
    influxd = spawn('influxd', ['run', '-config', join(dir, 'influxdb.conf')], { stdio: 'ignore' });
    await waitFor(
      'scratch influxd up',
      () =>
        fetch(`http://127.0.0.1:${http}/ping`).then(
          (r) => r.status,
          () => 0,
        ),
      (s) => s === 204,
      30_000,
      100,
    );
  };
  const stop = async () => {
    if (!influxd || influxd.exitCode !== null) return;
    const exited = new Promise((resolve) => influxd!.once('exit', resolve));
    influxd.kill('SIGTERM');
    await exited;
  };
  const as = (config: InfluxConfig) =>
    new InfluxClient({ ...config, url: `http://127.0.0.1:${port}`, database: 'solar' });
  const scratchAccounts = () => {
    const { admin, writer, reader } = accounts();
    const here = (c: InfluxConfig) => ({ ...c, url: `http://127.0.0.1:${port}`, database: 'solar' });
    return { admin: here(admin), writer: here(writer), reader: here(reader) };
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'influx-auth-'));
  });
  afterAll(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gets its first admin, the writer and the reader from setup, and keeps its data', async () => {
    await start(false);
    const open = new InfluxClient({ ...scratchAccounts().admin, username: undefined, password: undefined });
    await open.query('CREATE DATABASE "solar"', { database: null });
    await open.write(`telemetry,serial=OLD energy_wh_total=1234 ${at}000000`);
    await stop();

    await start(true); // what setup's new influxdb.conf does on restart
    expect(await status(open.query('SELECT * FROM "telemetry"'))).toBe(403); // no admin yet: nothing but the first one
    const changes = await ensureInfluxUsers(scratchAccounts());
    expect(changes[0]).toBe(`admin ${env.INFLUX_ADMIN_USERNAME} created (first admin)`);
    expect(await status(open.query('SELECT * FROM "telemetry"'))).toBe(401);
    expect(await as(scratchAccounts().reader).rows('SELECT "energy_wh_total" FROM "telemetry"')).toEqual([
      { time: at, energy_wh_total: 1234 },
    ]);
    expect(await status(as(scratchAccounts().reader).write(probe))).toBe(403);
    expect(await ensureInfluxUsers(scratchAccounts())).toEqual([]); // a second setup changes nothing
  });
});
