// The operator's backup commands (npm run ops -- backup | backups | check | restore): PostgreSQL
// through pgBackRest (base backups + the WAL archive setup turns on), InfluxDB through
// `influxd backup -portable`, and the ingest journals and secrets.env as files.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { command, type Command, instant, usage } from '../../lib/cli';
import { readInfluxConfig } from '../../lib/config';
import { InfluxClient } from '../../lib/influx/client';
import { ensureInfluxLayout } from '../../lib/influx/layout';
import { ensureInfluxUsers } from '../../lib/influx/users';
import { backupFiles, listFilesBackups, restoreFiles, runningIngestWorkers } from './files';
import {
  backupInflux,
  expireInfluxBackups,
  influxChain,
  listInfluxBackups,
  restoreInfluxChain,
  verifyInfluxBackup,
} from './influx';
import { backupPostgres, checkPostgres, postgresRepository, restorePostgres } from './postgres';
import { runTool } from './run';
import { type BackupSettings, readBackupSettings } from './settings';

const say = (line: string) => console.log(line);
const mib = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MiB`;
const STATUS = 'status.json';

/** What monitoring reads (the backup-age alert): the last success and the last failure. */
export interface BackupStatus {
  lastSuccessAt?: string;
  lastFailureAt?: string;
  lastError?: string;
}
export function readBackupStatus(backupDir: string): BackupStatus {
  const file = join(backupDir, STATUS);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as BackupStatus) : {};
}
function recordStatus(s: BackupSettings, change: BackupStatus): void {
  mkdirSync(s.backupDir, { recursive: true });
  const status = { ...readBackupStatus(s.backupDir), ...change };
  // Rewritten in place: it keeps the owner `npm run ops -- install` gives it (the monitor's user).
  writeFileSync(join(s.backupDir, STATUS), `${JSON.stringify(status, null, 2)}\n`, { mode: 0o600 });
}

const SECRETS_WARNING =
  'warning: the backup holds secrets.env (every password of the platform): whoever can read BACKUP_DIR can sign ' +
  "in as any of its services. Keep it on storage only the platform's operators can read, encrypted when it leaves the machine.";

async function backup(s: BackupSettings, full: boolean): Promise<void> {
  const started = Date.now();
  try {
    say(`PostgreSQL: ${full ? 'full' : 'incremental (full when there is none yet)'} base backup (pgBackRest)…`);
    const pgBackup = await backupPostgres(s, full ? 'full' : 'incr');
    say(
      `  ${pgBackup.label} (${pgBackup.type}): ${mib(pgBackup.repositoryBytes)} in the repository, database ${mib(pgBackup.databaseBytes)}`,
    );
    say('InfluxDB: influxd backup -portable…');
    const influx = await backupInflux(s, full ? 'full' : 'incremental');
    say(`  ${influx.name}: ${mib(influx.bytes)}${influx.since ? ` (changes since ${influx.since})` : ''}`);
    const files = backupFiles(s);
    say(
      `Files: ${files.name}: ${files.journals ? 'ingest journals' : 'no ingest journals'}${files.secrets ? ', secrets.env' : ''}`,
    );
    if (files.secrets) say(SECRETS_WARNING);
    const expired = expireInfluxBackups(s, s.retentionFull, (dir) => rmSync(dir, { recursive: true, force: true }));
    // Files backups older than the oldest InfluxDB backup kept are no use to any restore.
    const oldestKept = listInfluxBackups(s)[0]?.startedAt;
    const expiredFiles = listFilesBackups(s).filter((f) => oldestKept && f.completedAt < oldestKept);
    for (const f of expiredFiles) rmSync(f.dir, { recursive: true, force: true });
    if (expired.length + expiredFiles.length > 0)
      say(
        `Retention (${s.retentionFull} full backups): removed ${expired.length} InfluxDB and ${expiredFiles.length} files backups; pgBackRest expires its own`,
      );
    recordStatus(s, { lastSuccessAt: new Date().toISOString() });
    say(`Backup done in ${((Date.now() - started) / 1000).toFixed(1)} s into ${s.backupDir}`);
  } catch (error) {
    recordStatus(s, { lastFailureAt: new Date().toISOString(), lastError: (error as Error).message.split('\n')[0] });
    throw error;
  }
}

async function listBackups(s: BackupSettings): Promise<void> {
  const repo = await postgresRepository(s);
  say(`PostgreSQL (pgBackRest, ${repo.status}):`);
  for (const b of repo.backups)
    say(`  ${b.label}  ${b.type.padEnd(4)}  ${b.startedAt} → ${b.stoppedAt}  ${mib(b.repositoryBytes)}`);
  say(
    repo.archive
      ? `  WAL archive ${repo.archive.min} … ${repo.archive.max}: restorable to any moment from the oldest backup's end to the newest archived commit`
      : '  WAL archive: empty',
  );
  say('InfluxDB:');
  for (const b of listInfluxBackups(s))
    say(`  ${b.name}  ${b.kind.padEnd(11)}  completed ${b.completedAt}  ${mib(b.bytes)}`);
  say('Files (ingest journals, secrets.env):');
  for (const f of listFilesBackups(s)) say(`  ${f.name}  completed ${f.completedAt}`);
  const status = readBackupStatus(s.backupDir);
  say(
    `Last success: ${status.lastSuccessAt ?? 'never'}; last failure: ${status.lastFailureAt ? `${status.lastFailureAt} (${status.lastError})` : 'none'}`,
  );
}

async function check(s: BackupSettings): Promise<number> {
  const problems: string[] = [];
  try {
    await checkPostgres(s);
    say('PostgreSQL: WAL archiving works (a segment was switched, archived and found) and the repository verifies');
  } catch (error) {
    problems.push(`PostgreSQL: ${(error as Error).message}`);
  }
  const chain = influxChain(listInfluxBackups(s));
  if (chain.length === 0) problems.push('InfluxDB: no full backup yet (npm run ops -- backup)');
  for (const b of chain) problems.push(...(await verifyInfluxBackup(b)).map((p) => `InfluxDB: ${p}`));
  if (chain.length > 0 && problems.every((p) => !p.startsWith('InfluxDB')))
    say(
      `InfluxDB: the newest restorable chain (${chain.length} backups from ${chain[0]?.name}) decompresses intact to its manifests' sizes`,
    );
  const last = readBackupStatus(s.backupDir).lastSuccessAt;
  const ageHours = last ? (Date.now() - Date.parse(last)) / 3_600_000 : Number.POSITIVE_INFINITY;
  if (ageHours > s.maxAgeHours)
    problems.push(
      `the newest backup is ${last ? `${ageHours.toFixed(1)} hours old` : 'missing'} (BACKUP_MAX_AGE_HOURS ${s.maxAgeHours})`,
    );
  for (const p of problems) say(`problem: ${p}`);
  if (problems.length === 0) say('Backups: all checks passed');
  return problems.length === 0 ? 0 : 1;
}

const services = (action: 'start' | 'stop', ...names: string[]) =>
  runTool('bash', ['ops/services.sh', action, ...names]).then((out) => out.trim() && say(out.trimEnd()));

async function waitForPromotion(databaseOwnerUrl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: databaseOwnerUrl });
    try {
      await client.connect();
      const { rows } = await client.query<{ recovering: boolean }>('SELECT pg_is_in_recovery() AS recovering');
      if (!rows[0]?.recovering) return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    } finally {
      await client.end().catch(() => {});
    }
    if (Date.now() > deadline) throw new Error('PostgreSQL is still recovering; see its log');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function restore(s: BackupSettings, target: Date | undefined): Promise<void> {
  const started = Date.now();
  const workers = runningIngestWorkers(s);
  if (workers.length > 0)
    usage(
      `ingest is running (pid ${workers.join(', ')}): stop the platform first (npm start's Ctrl-C, or systemctl stop 'solar-*')`,
    );
  const chain = influxChain(listInfluxBackups(s), target);
  if (chain.length === 0) usage(`no InfluxDB full backup completed${target ? ` by ${target.toISOString()}` : ''}`);
  const files = listFilesBackups(s)
    .filter((f) => !target || Date.parse(f.completedAt) <= target.getTime())
    .at(-1);
  const aside = join(s.dataDir, `before-restore-${new Date().toISOString().replace(/[-:.]/g, '')}`);
  say(
    `Restoring to ${target ? target.toISOString() : 'the newest archived moment'}; what is replaced goes to ${aside}`,
  );

  await services('stop', 'postgres', 'influxdb');
  say('PostgreSQL: restoring the base backup and replaying the WAL archive…');
  await restorePostgres(s, target);
  await services('start', 'postgres');
  await waitForPromotion(process.env.DATABASE_OWNER_URL ?? '', 30 * 60_000);
  say('PostgreSQL: recovered and open for writes');

  mkdirSync(join(aside, 'influxdb'), { recursive: true, mode: 0o700 });
  for (const part of ['meta', 'data', 'wal'])
    if (existsSync(join(s.influxDataDir, part))) renameSync(join(s.influxDataDir, part), join(aside, 'influxdb', part));
  await services('start', 'influxdb');
  const adminConfig = { ...readInfluxConfig(process.env, 'ADMIN'), requestTimeoutMs: 30 * 60_000 };
  await restoreInfluxChain(
    s,
    chain,
    adminConfig.database,
    async () => {
      // Users are not in a portable backup: the platform's, with secrets.env's passwords, as setup makes them.
      await ensureInfluxUsers({
        admin: adminConfig,
        writer: readInfluxConfig(process.env, 'WRITER'),
        reader: readInfluxConfig(process.env, 'READER'),
      });
      const admin = new InfluxClient(adminConfig);
      await ensureInfluxLayout(admin, adminConfig.rawRetention);
      return admin;
    },
    say,
  );
  if (files) restoreFiles(s, files, aside, say);
  else say('ingest journals: no files backup to restore');
  say(
    `Restore done in ${((Date.now() - started) / 1000).toFixed(1)} s. Start the platform; once it runs as it should, delete ${aside}.`,
  );
}

export const backupCommands: Record<string, Command> = {
  backup: command({
    summary: 'back up PostgreSQL (pgBackRest), InfluxDB, ingest journals and secrets.env',
    help: `Usage: npm run ops -- backup [--full]

A base backup of PostgreSQL (incremental on the last one unless --full; the WAL archive between
backups is continuous), an InfluxDB backup (incremental since the last one unless --full), and a
copy of ingest's journals and secrets.env, into BACKUP_DIR (${'<profile>'}/backups unless set: put it
on another disk). Keeps BACKUP_RETENTION_FULL full backups (default 4) and what depends on them.
Run it daily (the systemd timer does) and --full weekly.`,
    options: { full: { type: 'boolean' } },
    run: ({ values }) => backup(readBackupSettings(process.env), values.full ?? false),
  }),
  backups: command({
    summary: 'list the backups and the point-in-time window they allow',
    help: 'Usage: npm run ops -- backups\n\nEvery backup kept (PostgreSQL, InfluxDB, files), the WAL archive range and the last result.',
    run: () => listBackups(readBackupSettings(process.env)),
  }),
  check: command({
    summary: 'verify the backups: WAL archiving works, files match their checksums and manifests, age',
    help: `Usage: npm run ops -- check

Forces a WAL segment out and waits until it is archived (pgbackrest check), verifies the
repository's checksums (pgbackrest verify) and the newest InfluxDB chain's files against their
manifests, and fails (exit 1) when the newest backup is older than BACKUP_MAX_AGE_HOURS (26).`,
    run: () => check(readBackupSettings(process.env)),
  }),
  restore: command({
    summary: 'restore PostgreSQL to a point in time, InfluxDB, the journals (destructive: --yes)',
    help: `Usage: npm run ops -- restore [--to TIME] --yes

Stops the profile's PostgreSQL and InfluxDB and restores them: PostgreSQL from the base backup
before TIME, replaying the WAL archive up to TIME (default: as far as it goes); InfluxDB from the
last full backup completed by TIME and its incrementals; ingest's journals from the last files
backup by TIME. secrets.env is restored only where none exists. What it replaces is moved aside,
not deleted. Stop ingest, the API, billing and alerts first; start them again afterwards.

  --to TIME   RFC 3339 instant, e.g. 2026-12-05T14:03:00Z
  --yes       required: the current databases are replaced`,
    options: { to: { type: 'string' }, yes: { type: 'boolean' } },
    run: ({ values }) => {
      if (!values.yes) usage('restore replaces the current databases: add --yes');
      const target = values.to === undefined ? undefined : new Date(instant(values.to, 'to', 0));
      if (target && target.getTime() > Date.now()) usage(`--to ${values.to} is in the future`);
      return restore(readBackupSettings(process.env), target);
    },
  }),
};
