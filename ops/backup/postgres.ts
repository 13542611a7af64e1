// PostgreSQL backups with pgBackRest (ops/backup/README.md says why): setup configures the
// repository and continuous WAL archiving (archive_command); here are base backups, their
// listing, verification and point-in-time restore. pgBackRest runs as the cluster's owner.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runTool } from './run';
import type { BackupSettings } from './settings';

const STANZA = 'solar';

function pgbackrest(s: BackupSettings, args: string[]): Promise<string> {
  return runTool('pgbackrest', [`--config=${s.pgbackrestConfig}`, `--stanza=${STANZA}`, ...args], {
    asUser: 'postgres',
    // pgBackRest connects through libpq, which reads the password from the environment.
    env: { ...process.env, PGPASSWORD: s.pgPassword },
  });
}

export interface PostgresBackup {
  label: string;
  type: 'full' | 'diff' | 'incr';
  startedAt: string;
  stoppedAt: string;
  /** Bytes in the repository for this backup (compressed, only what changed for diff/incr). */
  repositoryBytes: number;
  databaseBytes: number;
}
export interface PostgresRepository {
  backups: PostgresBackup[];
  /** The WAL archive: from the oldest to the newest segment kept (restorable up to the newest). */
  archive: { min: string; max: string } | null;
  status: string;
}

interface InfoJson {
  backup?: {
    label: string;
    type: PostgresBackup['type'];
    timestamp: { start: number; stop: number };
    info: { size: number; repository: { delta: number } };
  }[];
  archive?: { min: string | null; max: string | null }[];
  status: { code: number; message: string };
}

export async function postgresRepository(s: BackupSettings): Promise<PostgresRepository> {
  const [info] = JSON.parse(await pgbackrest(s, ['--output=json', 'info'])) as InfoJson[];
  if (!info) throw new Error('pgbackrest info returned nothing');
  const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
  const archive = info.archive?.find((a) => a.min && a.max);
  return {
    backups: (info.backup ?? []).map((b) => ({
      label: b.label,
      type: b.type,
      startedAt: iso(b.timestamp.start),
      stoppedAt: iso(b.timestamp.stop),
      repositoryBytes: b.info.repository.delta,
      databaseBytes: b.info.size,
    })),
    archive: archive ? { min: archive.min as string, max: archive.max as string } : null,
    status: info.status.message,
  };
}

/** A base backup (pgBackRest makes the first one full whatever is asked), then expires by retention. */
export async function backupPostgres(s: BackupSettings, type: 'full' | 'incr'): Promise<PostgresBackup> {
  await pgbackrest(s, ['backup', `--type=${type}`]);
  const newest = (await postgresRepository(s)).backups.at(-1);
  if (!newest) throw new Error('pgbackrest reported no backup after backing up');
  return newest;
}

/**
 * The archive works end to end (`check`: a WAL switch, archived and found in the repository) and
 * the backups' files match their checksums (`verify`). Forces the current WAL segment out, so the
 * newest commits are in the repository when it returns.
 */
export async function checkPostgres(s: BackupSettings): Promise<void> {
  await pgbackrest(s, ['check']);
  await pgbackrest(s, ['verify']);
}

/**
 * Restores the cluster's files from the repository (the cluster must be stopped). With `target`,
 * recovery replays the WAL archive up to that instant and stops before the first commit after it,
 * then promotes; without, up to the end of the archive.
 */
export async function restorePostgres(s: BackupSettings, target?: Date): Promise<void> {
  const hasCluster = existsSync(join(s.postgresDataDir, 'PG_VERSION'));
  if (!existsSync(s.postgresDataDir)) {
    mkdirSync(s.postgresDataDir, { recursive: true, mode: 0o700 });
    if (process.getuid?.() === 0) await runTool('chown', ['postgres', s.postgresDataDir]);
  }
  const args = ['restore'];
  // Over an existing cluster only the files that differ are rewritten (much faster than a full copy).
  if (hasCluster) args.push('--delta');
  if (target)
    args.push(
      '--type=time',
      `--target=${target.toISOString().replace('T', ' ').replace('Z', '+00')}`,
      '--target-action=promote',
    );
  await pgbackrest(s, args);
}
