// npm run bench:disk — what a device costs on disk, for docs/capacity.md: readings as ingest writes
// them (every field a datalogger sends) for BENCH_DISK_DEVICES inverters over BENCH_DISK_DAYS days,
// one every 15 minutes in daylight (a datalogger's quarter hour, nothing at night), into a fresh
// InfluxDB database with the platform's layout; the hourly and daily rollups rebuilt over them;
// then a portable backup of the database (which also writes InfluxDB's in-memory cache to TSM
// files) and the bytes on disk per retention policy. Prints BENCH disk-influx with bytes per
// reading on disk (raw, not yet fully compacted: an upper bound), in the rollups, and in a backup.
// Then BENCH disk-postgres: the ledger rows billing writes per installation-month and their bytes,
// measured on the newest upgrade fixture (prisma/test/fixtures: a real release's three billed months).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import pg from 'pg';
import { InfluxClient } from '../../lib/influx/client';
import { rebuildRollups } from '../../lib/influx/layout';
import { batchedLineWriter, freshInfluxDatabase, withPg } from '../../testing/services';
import { writeReadings } from '../../testing/readings';

const DEVICES = Number(process.env.BENCH_DISK_DEVICES ?? 500);
const DAYS = Number(process.env.BENCH_DISK_DAYS ?? 30);
const DAY = 86_400_000;
const DATABASE = 'bench_disk';
const progress = (m: string) => process.stderr.write(`${m}\n`);

/** Bytes of every file under `dir` (0 if it does not exist). */
function bytesUnder(dir: string): number {
  let sum = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of entries) {
    const path = join(dir, name);
    const s = statSync(path);
    sum += s.isDirectory() ? bytesUnder(path) : s.size;
  }
  return sum;
}

async function influxPart() {
  const { config } = await freshInfluxDatabase(DATABASE);
  // Rebuilding a month of rollups takes longer than the client's default 10 s.
  const influx = new InfluxClient({ ...config, requestTimeoutMs: 30 * 60_000 });
  const writer = batchedLineWriter(influx);
  const start = Date.parse('2026-09-23T00:00:00Z'); // 1 Mehr 1405, Tehran 03:30
  const started = performance.now();
  const readings = await writeReadings((line) => writer.add(line), DEVICES, DAYS, start, progress);
  await writer.done();
  const writeSeconds = (performance.now() - started) / 1000;
  progress('  rollups');
  await rebuildRollups(influx, start, start + DAYS * DAY);
  progress('  backup (also flushes the cache to TSM files)');
  const dir = mkdtempSync(join(tmpdir(), 'bench-disk-'));
  try {
    execFileSync(
      'influxd',
      ['backup', '-portable', '-database', DATABASE, '-host', process.env.INFLUX_BACKUP_ADDRESS!, dir],
      {
        stdio: 'ignore',
      },
    );
    const backupBytes = bytesUnder(dir);
    const data = join(process.env.SOLAR_DATA_DIR!, 'influxdb', 'data', DATABASE);
    const [raw = 0, hourly = 0, daily = 0] = ['raw', 'hourly', 'daily'].map((rp) => bytesUnder(join(data, rp)));
    const wal = bytesUnder(join(process.env.SOLAR_DATA_DIR!, 'influxdb', 'wal', DATABASE));
    const perReading = (bytes: number) => Number((bytes / readings).toFixed(1));
    console.log(
      `BENCH ${JSON.stringify({
        name: 'disk-influx',
        devices: DEVICES,
        days: DAYS,
        readings,
        readingsPerDeviceDay: Number((readings / DEVICES / DAYS).toFixed(1)),
        writeSeconds: Number(writeSeconds.toFixed(1)),
        bytes: { raw, hourly, daily, wal, backup: backupBytes },
        bytesPerReading: { raw: perReading(raw), wal: perReading(wal), backup: perReading(backupBytes) },
        rollupBytesPerDeviceDay: {
          hourly: Number((hourly / DEVICES / DAYS).toFixed(1)),
          daily: Number((daily / DEVICES / DAYS).toFixed(1)),
        },
      })}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await influx.query(`DROP DATABASE "${DATABASE}"`, { database: null });
  }
}

/** The ledger billing writes per installation-month, measured on a real release's billed months. */
async function postgresPart() {
  const fixtures = 'prisma/test/fixtures';
  const dump = readdirSync(fixtures)
    .filter((f) => f.endsWith('.sql.gz'))
    .sort()
    .at(-1);
  if (!dump) return progress('  no upgrade fixture: PostgreSQL part skipped');
  const name = 'bench_disk_ledger';
  await withPg(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}`);
  });
  const url = process.env.DATABASE_OWNER_URL!.replace(/\/[^/?]+(\?|$)/, `/${name}$1`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(gunzipSync(readFileSync(join(fixtures, dump))).toString('utf8'));
    await client.query('SET search_path = public');
    const scale = (
      await client.query<{ installations: number; months: number }>(
        `SELECT (SELECT count(DISTINCT installation_id) FROM installation_bills)::int AS installations,
                (SELECT count(*) FROM billing_months)::int AS months`,
      )
    ).rows[0]!;
    const installationMonths = scale.installations * scale.months;
    const tables = [
      'installation_bills',
      'statements',
      'statement_lines',
      'loan_deductions',
      'adjustments',
      'payout_rows',
      'audit_log',
    ];
    const perTable: Record<string, { rowsPerInstallationMonth: number; bytesPerRow: number }> = {};
    let bytesPerInstallationMonth = 0;
    for (const table of tables) {
      const exists = await client.query('SELECT 1 FROM pg_class WHERE relname = $1', [table]);
      if (!exists.rowCount) continue;
      // Tuple bytes as stored (TOASTed jsonb compressed), plus the 28-byte header and line pointer.
      const { rows } = await client.query<{ rows: number; bytes: number | null }>(
        `SELECT count(*)::int AS rows, avg(pg_column_size(t.*))::float8 + 28 AS bytes FROM "${table}" t`,
      );
      const r = rows[0]!;
      const rowsPer = r.rows / installationMonths;
      perTable[table] = { rowsPerInstallationMonth: Number(rowsPer.toFixed(2)), bytesPerRow: Math.round(r.bytes ?? 0) };
      bytesPerInstallationMonth += rowsPer * (r.bytes ?? 0);
    }
    console.log(
      `BENCH ${JSON.stringify({
        name: 'disk-postgres',
        fixture: dump,
        installations: scale.installations,
        months: scale.months,
        tupleBytesPerInstallationMonth: Math.round(bytesPerInstallationMonth),
        perTable,
      })}`,
    );
  } finally {
    await client.end();
    await withPg((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  }
}

progress(`disk bench: ${DEVICES} devices × ${DAYS} days`);
await influxPart();
await postgresPart();
