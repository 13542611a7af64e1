// The files beside the databases: ingest's journals (acknowledged readings not yet in InfluxDB,
// and where each worker's drain stands) and the profile's secrets.env (every password the
// platform's accounts were created with). Copied as they are, into BACKUP_DIR/files/<stamp>/.
import {
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { BackupSettings } from './settings';

export interface FilesBackup {
  name: string;
  dir: string;
  completedAt: string;
  journals: boolean;
  secrets: boolean;
}

const RECORD = 'solar-backup.json';
const filesRoot = (s: BackupSettings) => join(s.backupDir, 'files');
const stamp = (date: Date) =>
  date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

export function listFilesBackups(s: BackupSettings): FilesBackup[] {
  const root = filesRoot(s);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((name) => existsSync(join(root, name, RECORD)))
    .map((name) => JSON.parse(readFileSync(join(root, name, RECORD), 'utf8')) as FilesBackup)
    .sort((a, b) => a.completedAt.localeCompare(b.completedAt));
}

export function backupFiles(s: BackupSettings): FilesBackup {
  const name = stamp(new Date());
  const dir = join(filesRoot(s), name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const journals = existsSync(s.ingestDataDir);
  // A journal is written append-only and read back with its checksums: a copy taken while a worker
  // appends ends, at worst, in a torn last record, which is what a crash leaves and the worker handles.
  if (journals)
    cpSync(s.ingestDataDir, join(dir, 'ingest'), { recursive: true, filter: (src) => !src.endsWith('/LOCK') });
  const secrets = existsSync(s.secretsFile);
  if (secrets) writeFileSync(join(dir, 'secrets.env'), readFileSync(s.secretsFile), { mode: 0o600 });
  const backup: FilesBackup = { name, dir, completedAt: new Date().toISOString(), journals, secrets };
  writeFileSync(join(dir, RECORD), `${JSON.stringify(backup, null, 2)}\n`, { mode: 0o600 });
  return backup;
}

/** Ingest workers holding their journal's lock (a restore must not replace a journal in use). */
export function runningIngestWorkers(s: BackupSettings): number[] {
  if (!existsSync(s.ingestDataDir)) return [];
  return readdirSync(s.ingestDataDir).flatMap((worker) => {
    const lock = join(s.ingestDataDir, worker, 'LOCK');
    if (!existsSync(lock)) return [];
    const pid = Number(readFileSync(lock, 'utf8').trim());
    try {
      process.kill(pid, 0);
      return [pid];
    } catch {
      return [];
    }
  });
}

/**
 * Puts a files backup back: the journals replace the current ones (moved aside to `aside`), and
 * secrets.env is written only where none exists (a host being rebuilt); an existing one that
 * differs is reported, never overwritten.
 */
export function restoreFiles(s: BackupSettings, backup: FilesBackup, aside: string, say: (line: string) => void): void {
  if (backup.journals) {
    // The journals belong to whoever runs ingest there (on a production host the platform's user,
    // not root, who restores): copies owned by root left every ingest worker unable to open its own.
    const { uid, gid } = statSync(existsSync(s.ingestDataDir) ? s.ingestDataDir : dirname(s.ingestDataDir));
    if (existsSync(s.ingestDataDir)) {
      mkdirSync(aside, { recursive: true, mode: 0o700 });
      renameSync(s.ingestDataDir, join(aside, 'ingest'));
    }
    cpSync(join(backup.dir, 'ingest'), s.ingestDataDir, { recursive: true });
    for (const path of [s.ingestDataDir, ...readdirSync(s.ingestDataDir, { recursive: true, encoding: 'utf8' })])
      chownSync(path === s.ingestDataDir ? path : join(s.ingestDataDir, path), uid, gid);
    say(`ingest journals: restored from ${backup.name}`);
  }
  if (!backup.secrets) return;
  const saved = readFileSync(join(backup.dir, 'secrets.env'));
  if (!existsSync(s.secretsFile)) {
    writeFileSync(s.secretsFile, saved, { mode: 0o600 });
    say(`secrets.env: restored from ${backup.name} (run setup next: it writes platform.env from it)`);
  } else if (!readFileSync(s.secretsFile).equals(saved)) {
    say(
      `warning: ${s.secretsFile} differs from the one in ${backup.name}; kept as it is. The restored databases ` +
        `expect the saved passwords: copy ${join(backup.dir, 'secrets.env')} over it and run setup, unless you changed them on purpose`,
    );
  }
}
