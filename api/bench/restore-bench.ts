// npm run bench:restore — the RTO at program size: the throw-away `drill` profile (its own services,
// as the restore drill uses) is filled with the full program's registry and a year of statements
// (21,000 beneficiaries, 7,000 installations: api/bench/program.ts) and BENCH_RESTORE_DEVICES
// inverters' readings over BENCH_RESTORE_DAYS days (a datalogger's quarter hour in daylight), backed
// up in full, its data directories deleted, and restored with `npm run ops -- restore --yes`, each
// step of the restore timed from its own output. Prints BENCH restore with the sizes and times, from
// which docs/capacity.md extrapolates a year (the InfluxDB part grows with the readings).
// BENCH_RESTORE_KEEP=1 leaves the drill profile running.
import { execFile, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv, promisify } from 'node:util';
import type pg from 'pg';
import { seedProgram } from './program';
import { InfluxClient } from '../../lib/influx/client';
import { batchedLineWriter, withPg } from '../../testing/services';
import { writeReadings } from '../../testing/readings';

const run = promisify(execFile);
const DEVICES = Number(process.env.BENCH_RESTORE_DEVICES ?? 7000);
const DAYS = Number(process.env.BENCH_RESTORE_DAYS ?? 30);
const DRILL_DIR = join(process.cwd(), '.data/drill');
const progress = (m: string) => process.stderr.write(`${m}\n`);
const seconds = (fromMs: number) => Number(((performance.now() - fromMs) / 1000).toFixed(1));
let env: NodeJS.ProcessEnv = { ...process.env, SOLAR_PROFILE: 'drill', LOG_LEVEL: 'warn' };
const sh = (args: string[]) => run('bash', args, { env, timeout: 60 * 60_000, maxBuffer: 64 << 20 });

/** Runs an ops command, timing each line it prints from the command's start (the restore's steps). */
function timedOps(args: string[]): Promise<{ total: number; steps: { at: number; line: string }[] }> {
  const started = performance.now();
  const steps: { at: number; line: string }[] = [];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'ops/cli.ts', ...args], { env });
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line) {
          steps.push({ at: seconds(started), line: line.slice(0, 160) });
          progress(`  [${seconds(started)} s] ${line}`);
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) =>
      code === 0 ? resolve({ total: seconds(started), steps }) : reject(new Error(`ops ${args[0]} exited ${code}`)),
    );
  });
}

/** As the drill profile's owner (its environment is read once setup has written it). */
const asOwner = <T>(work: (client: pg.Client) => Promise<T>) => withPg(work, env.DATABASE_OWNER_URL);
const influx = () =>
  new InfluxClient({
    url: env.INFLUX_URL as string,
    database: 'solar',
    username: env.INFLUX_ADMIN_USERNAME,
    password: env.INFLUX_ADMIN_PASSWORD,
    rawRetention: 'INF',
    requestTimeoutMs: 30 * 60_000,
  });
const counts = async () => ({
  readings: Number((await influx().rows('SELECT count(energy_wh_total) FROM telemetry'))[0]?.count ?? 0),
  statements: await asOwner(async (c) => Number((await c.query('SELECT count(*) FROM statements')).rows[0].count)),
  postgresBytes: await asOwner(async (c) =>
    Number((await c.query('SELECT pg_database_size(current_database()) AS b')).rows[0].b),
  ),
});
const du = async (path: string) => Number((await run('du', ['-sb', path])).stdout.split('\t')[0]);

progress(`restore bench: ${DEVICES} inverters × ${DAYS} days, the full program's ledger, on the drill profile`);
await sh(['ops/services.sh', 'stop']).catch(() => undefined);
rmSync(DRILL_DIR, { recursive: true, force: true });
await sh(['ops/setup.sh']);
env = { ...env, ...parseEnv(readFileSync(join(DRILL_DIR, 'platform.env'), 'utf8')) };
try {
  let t = performance.now();
  await asOwner((c) => seedProgram(c, 0));
  const writer = batchedLineWriter(influx());
  const readings = await writeReadings(
    (line) => writer.add(line),
    DEVICES,
    DAYS,
    Date.parse('2026-09-23T00:00:00Z'),
    progress,
  );
  await writer.done();
  const seedSeconds = seconds(t);
  const before = await counts();
  progress(`  seeded in ${seedSeconds} s: ${JSON.stringify(before)}`);

  t = performance.now();
  const backup = await timedOps(['backup', '--full']);
  const backupBytes = await du(env.BACKUP_DIR as string);

  // The disk is lost: every data directory of PostgreSQL and InfluxDB goes.
  await sh(['ops/services.sh', 'stop', 'postgres', 'influxdb']);
  for (const part of ['postgres/data', 'influxdb/data', 'influxdb/meta', 'influxdb/wal'])
    rmSync(join(DRILL_DIR, part), { recursive: true, force: true });
  const restore = await timedOps(['restore', '--yes']);
  const after = await counts();
  if (after.readings !== before.readings || after.statements !== before.statements)
    throw new Error(`restored ${JSON.stringify(after)}, backed up ${JSON.stringify(before)}`);
  console.log(
    `BENCH ${JSON.stringify({
      name: 'restore',
      devices: DEVICES,
      days: DAYS,
      readings,
      statements: before.statements,
      postgresBytes: before.postgresBytes,
      backupBytes,
      seedSeconds,
      backupSeconds: backup.total,
      rtoSeconds: restore.total,
      restoreSteps: restore.steps,
    })}`,
  );
} finally {
  if (!process.env.BENCH_RESTORE_KEEP) {
    await sh(['ops/services.sh', 'stop']).catch(() => undefined);
    rmSync(DRILL_DIR, { recursive: true, force: true });
  }
}
