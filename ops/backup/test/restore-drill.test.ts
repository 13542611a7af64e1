// The restore drill: a throw-away profile ('drill', its own services and ports) is seeded with
// the demo program (three billed months, the oldest closed and paid), keeps ingesting, is backed
// up, written to twice with a known instant between, loses its data directories and is restored
// to that instant. The closed months, statements and payout file must come back byte for byte,
// the readings up to the instant all present, nothing after it, and ingest must run on from its
// restored journal. The restore's wall time is the demo program's RTO (BENCHMARKS.md).
// Then the rollback of an upgrade as docs/upgrade.md tells operators: the previous release's
// database is backed up, upgraded with today's migrations and written to, then restored to the
// instant before the upgrade: every row, each closed month's digest and the release's migrations
// must be back exactly, today's migrations gone.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv, promisify } from 'node:util';
import mqtt from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MonthId } from '../../../lib/program/solar-hijri';
import { payoutFile } from '../../../billing';
import { InfluxClient } from '../../../lib/influx/client';
import { loadRelease, newestRelease, tableStates } from '../../../testing/release-fixture';
import { pgUrlOf, withPg } from '../../../testing/services';

const run = promisify(execFile);
const ROOT = process.cwd();
const DRILL_DIR = join(ROOT, '.data/drill');
const baseEnv = { ...process.env, SOLAR_PROFILE: 'drill', LOG_LEVEL: 'warn' };
let env: NodeJS.ProcessEnv = baseEnv;
const sh = (args: string[], timeout = 15 * 60_000) => run('bash', args, { env, timeout, maxBuffer: 64 << 20 });
const tsx = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, ['--import', 'tsx', ...args], {
    env: { ...env, ...extra },
    timeout: 15 * 60_000,
    maxBuffer: 64 << 20,
  });
const ops = (...args: string[]) => tsx(['ops/cli.ts', ...args], { OPS_PASSWORD: 'drill-password-1' });

/** As the drill profile's owner, on its database or on `database`. */
function drillPg<T>(work: (client: pg.Client) => Promise<T>, database?: string): Promise<T> {
  const url = env.DATABASE_OWNER_URL as string;
  return withPg(work, database ? pgUrlOf(database, url) : url);
}
const influx = () =>
  new InfluxClient({
    url: env.INFLUX_URL as string,
    database: 'solar',
    username: env.INFLUX_ADMIN_USERNAME,
    password: env.INFLUX_ADMIN_PASSWORD,
    rawRetention: 'INF',
    requestTimeoutMs: 60_000,
  });
const countReadings = async (where = '') =>
  Number((await influx().rows(`SELECT count(energy_wh_total) FROM telemetry${where}`))[0]?.count ?? 0);

let ingest: ChildProcess | undefined;
async function startIngest(): Promise<void> {
  ingest = spawn(process.execPath, ['--import', 'tsx', 'ingest/src/main.ts'], { env, stdio: 'ignore' });
  await until('ingest healthy', async () => {
    const response = await fetch(`http://127.0.0.1:${env.INGEST_HTTP_PORT}/healthz`).catch(() => null);
    return response?.ok === true;
  });
}
async function stopIngest(): Promise<void> {
  const child = ingest;
  ingest = undefined;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * The counter DEMO-INV-0001 showed at `tMs`, read off the stored readings around it: on the straight
 * line from the one before to the one after, flat after the newest. The seeded history reaches the
 * present, so the drill's readings fall between stored ones, and ingest takes such a reading only if
 * its counter rises from the stored one before and to the stored one after no faster than the rating
 * allows (gapMisfit, ingest/src/history.ts); a point on that line does at any hour. A counter held
 * at the one before `from` (or the newest plus a little, before that) was refused by day, when the
 * history's counters rise: below the next stored one, or too far below it for the minutes between.
 */
async function counterAt(serial: string, tMs: number): Promise<number> {
  const stored = (select: string, when: string) =>
    influx().rows(
      `SELECT ${select}(energy_wh_total) AS wh FROM telemetry WHERE serial = '${serial}' AND time ${when} ${tMs}ms`,
    );
  const [[before], [after]] = await Promise.all([stored('last', '<='), stored('first', '>')]);
  if (!before) throw new Error(`no stored reading of ${serial} before ${new Date(tMs).toISOString()}`);
  const [t0, wh0] = [Number(before.time), Number(before.wh)];
  if (!after) return wh0;
  const [t1, wh1] = [Number(after.time), Number(after.wh)];
  return wh0 + ((wh1 - wh0) * (tMs - t0)) / (t1 - t0);
}

/**
 * Publishes `count` readings of the demo's first inverter, a minute apart from `from`, each with the
 * counter the stored history puts at its instant (`counterAt`); `marker` is their AC power, which
 * tells these readings apart from the seeded ones.
 */
async function publishReadings(from: number, count: number, marker: number): Promise<void> {
  const serial = 'DEMO-INV-0001';
  const readings = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const ts = from + i * 60_000;
      return { ts, energy_wh_total: await counterAt(serial, ts), ac_power_w: marker, state: 'MPPT' };
    }),
  );
  const client = await mqtt.connectAsync(env.MQTT_URL as string, {
    username: env.MQTT_FLEET_USERNAME,
    password: env.MQTT_FLEET_PASSWORD,
    clientId: `drill-${Date.now()}`,
  });
  for (const reading of readings)
    await client.publishAsync(`solar/v1/${serial}/telemetry`, JSON.stringify(reading), { qos: 1 });
  await client.endAsync();
}
const readingsMarked = (marker: number) => countReadings(` WHERE serial = 'DEMO-INV-0001' AND ac_power_w = ${marker}`);

interface Evidence {
  closedMonths: { month: string; status: string; digest: string }[];
  statements: string;
  payout: { month: string; csv: string };
  readings: number;
  staff: string[];
}
async function evidence(): Promise<Evidence> {
  const closedMonths = await drillPg(
    async (c) =>
      (
        await c.query<{ month: string; status: string; digest: string }>(
          "SELECT month, status::text, digest FROM billing_months WHERE status <> 'DRAFT' ORDER BY month",
        )
      ).rows,
  );
  const statements = await drillPg(async (c) =>
    JSON.stringify(
      (
        await c.query(
          `SELECT s.*, (SELECT json_agg(l ORDER BY l) FROM statement_lines l WHERE l.month = s.month AND l.beneficiary_id = s.beneficiary_id) AS lines
           FROM statements s JOIN billing_months m USING (month) WHERE m.status <> 'DRAFT' ORDER BY s.month, s.beneficiary_id`,
        )
      ).rows,
    ),
  );
  const paid = closedMonths.find((m) => m.status === 'PAID')?.month as MonthId;
  const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 2 });
  const { csv } = await payoutFile(pool, paid, 'drill', { create: false }).finally(() => pool.end());
  const staff = await drillPg(
    async (c) => (await c.query<{ username: string }>('SELECT username FROM users ORDER BY username')).rows,
  );
  return {
    closedMonths,
    statements,
    payout: { month: paid, csv },
    readings: await countReadings(),
    staff: staff.map((u) => u.username),
  };
}

describe('restore drill: back up, lose the data directories, restore to a point in time', () => {
  beforeAll(async () => {
    // DRILL_KEEP=1 keeps the drill's services and data after the run, and a kept, seeded drill is
    // used again (to iterate on the drill itself); otherwise the drill always starts from nothing.
    const reuse = process.env.DRILL_KEEP && existsSync(join(DRILL_DIR, 'demo/fleet.json'));
    if (!reuse) {
      if (existsSync(join(DRILL_DIR, 'platform.env'))) await sh(['ops/services.sh', 'stop']).catch(() => {});
      rmSync(DRILL_DIR, { recursive: true, force: true });
    }
    await sh(['ops/setup.sh']);
    env = { ...baseEnv, ...parseEnv(readFileSync(join(DRILL_DIR, 'platform.env'), 'utf8')) };
    await startIngest();
    if (!reuse) await tsx(['demo/src/cli.ts', 'seed', '--installations', '4']);
  }, 30 * 60_000);

  afterAll(async () => {
    await stopIngest();
    if (process.env.DRILL_KEEP) return;
    await sh(['ops/services.sh', 'stop']).catch(() => {});
    rmSync(DRILL_DIR, { recursive: true, force: true });
  }, 5 * 60_000);

  it(
    'restores the ledger to the instant, the readings up to it, and nothing after it',
    async () => {
      const now = Date.now();
      // Names and markers of this run's own writes (a kept drill holds earlier runs').
      const run = now % 300;
      const [early, late, resumed] = [3000 + run, 3300 + run, 3600 + run];
      const [writtenBefore, writtenAfter] = [`drill-before-${now}`, `drill-after-${now}`];
      // Backups while the platform runs: a full one, more readings, an incremental one.
      await ops('backup', '--full');
      await publishReadings(now - 30 * 60_000, 5, early);
      await until('the readings before the incremental backup', async () => (await readingsMarked(early)) === 5);
      const incremental = await ops('backup');
      expect(incremental.stdout).toMatch(/-incremental: .*changes since/);

      // Two known writes with the recovery point between them.
      await ops('create-user', '--username', writtenBefore, '--role', 'OPERATOR');
      const before = await evidence();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const target = new Date();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await ops('create-user', '--username', writtenAfter, '--role', 'OPERATOR');
      await publishReadings(now - 20 * 60_000, 3, late);
      await until('the readings after the recovery point', async () => (await readingsMarked(late)) === 3);
      // `check` forces the WAL segment holding the second write into the archive (as archive_timeout would).
      const check = await ops('check');
      expect(check.stdout).toMatch(/Backups: all checks passed/);
      expect(before.staff).toContain(writtenBefore);
      expect(before.closedMonths.length).toBeGreaterThanOrEqual(2);

      // The disk is lost: the databases' and ingest's directories are gone.
      await stopIngest();
      await sh(['ops/services.sh', 'stop', 'postgres', 'influxdb']);
      for (const dir of ['postgres/data', 'influxdb/meta', 'influxdb/data', 'influxdb/wal', 'ingest'])
        rmSync(join(DRILL_DIR, dir), { recursive: true, force: true });

      const started = Date.now();
      const restored = await ops('restore', '--to', target.toISOString(), '--yes');
      const rtoSeconds = (Date.now() - started) / 1000;
      console.log(
        `BENCH ${JSON.stringify({ name: 'restore-drill', program: 'demo (4 installations, 3 months)', rtoSeconds, readings: before.readings })}`,
      );
      expect(restored.stdout).toMatch(/incremental backup .* merged/);

      const after = await evidence();
      expect(after.closedMonths).toEqual(before.closedMonths);
      expect(after.statements).toBe(before.statements);
      expect(Buffer.from(after.payout.csv).equals(Buffer.from(before.payout.csv))).toBe(true);
      expect(after.readings).toBe(before.readings);
      expect(await readingsMarked(early)).toBe(5);
      expect(await readingsMarked(late)).toBe(0);
      expect(after.staff).toContain(writtenBefore);
      expect(after.staff).not.toContain(writtenAfter);
      expect(restored.stdout).toMatch(/ingest journals: restored/);
      expect(existsSync(join(env.INGEST_DATA_DIR as string, 'worker-1'))).toBe(true);

      // The platform runs on from the restored state: ingest from its journal, new readings stored.
      await startIngest();
      await publishReadings(Date.now() - 5 * 60_000, 2, resumed);
      await until('readings after the restore', async () => (await readingsMarked(resumed)) === 2);
    },
    30 * 60_000,
  );

  it(
    'rolls an upgrade back as docs/upgrade.md says: the release and its ledger exactly as before it',
    async () => {
      // The host runs the previous release: its database, made by its own code (the upgrade test's fixture).
      const database = 'release_before_upgrade';
      await drillPg(async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        await c.query(`CREATE DATABASE ${database}`);
      });
      /** Every table's rows, each month's digest and the migrations applied. */
      const release = () =>
        drillPg(
          async (c) => ({
            tables: Object.fromEntries(await tableStates(c)),
            digests: (await c.query('SELECT month, status::text, digest FROM billing_months ORDER BY month')).rows,
            migrations: (await c.query('SELECT migration_name, checksum FROM _prisma_migrations ORDER BY 1')).rows,
          }),
          database,
        );
      await drillPg(loadRelease, database);
      const before = await release();
      expect(before.digests.filter((m) => m.status !== 'DRAFT').length, newestRelease).toBeGreaterThan(0);

      // Upgrade step 2: a backup, and the instant to return to.
      await ops('backup');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const t0 = new Date();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      // Step 4: today's migrations, as setup applies them; then the new release at work.
      const url = pgUrlOf(database, env.DATABASE_OWNER_URL as string);
      await run('npx', ['prisma', 'migrate', 'deploy'], { env: { ...env, DATABASE_OWNER_URL: url } });
      await drillPg(
        (c) =>
          c.query(
            "UPDATE beneficiaries SET full_name = full_name || ' (after the upgrade)' WHERE id IN (SELECT min(id) FROM beneficiaries)",
          ),
        database,
      );
      const upgraded = await release();
      expect(upgraded.migrations.length).toBeGreaterThan(before.migrations.length);
      expect(upgraded.tables.beneficiaries).not.toEqual(before.tables.beneficiaries);
      await ops('check'); // the upgrade's WAL in the archive, as archive_timeout would put it

      // The rollback, as docs/upgrade.md says for a migration the old code cannot run with.
      await stopIngest();
      const restored = await ops('restore', '--to', t0.toISOString(), '--yes');
      expect(restored.stdout).toMatch(/Restore done/);
      const after = await release();
      expect(after.migrations).toEqual(before.migrations); // the release's own, so its setup and code run as before
      expect(after.digests).toEqual(before.digests);
      expect(after.tables).toEqual(before.tables);
      await startIngest(); // the platform runs on
    },
    30 * 60_000,
  );
});
