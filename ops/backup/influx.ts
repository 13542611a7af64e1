// InfluxDB backups: `influxd backup -portable`, a full one, then incremental ones (`-since` the
// previous backup) until the next full. Each lands in its own directory under BACKUP_DIR/influxdb
// with a small record of what it is (solar-backup.json). InfluxDB 1.x cannot restore an
// incremental backup over a database: the documented way, done here, is to restore it into a
// scratch database and copy it in with SELECT ... INTO (same series and time overwrite, so copies
// that overlap are harmless), then drop the scratch database.
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { join } from 'node:path';
import type { InfluxClient } from '../../lib/influx/client';
import { runTool } from './run';
import type { BackupSettings } from './settings';

export interface InfluxBackup {
  name: string;
  dir: string;
  kind: 'full' | 'incremental';
  startedAt: string;
  completedAt: string;
  /** Incremental: the instant its `-since` started from (the previous backup's start, less a margin). */
  since?: string;
  bytes: number;
}

const RECORD = 'solar-backup.json';
/** Incrementals start a little before the previous backup began: overlapping is harmless, gaps are not. */
const SINCE_MARGIN_MS = 60_000;

const stamp = (date: Date) =>
  date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
const influxRoot = (s: BackupSettings) => join(s.backupDir, 'influxdb');

/** Every complete InfluxDB backup, oldest first (a directory without its record was interrupted). */
export function listInfluxBackups(s: BackupSettings): InfluxBackup[] {
  const root = influxRoot(s);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((name) => existsSync(join(root, name, RECORD)))
    .map((name) => JSON.parse(readFileSync(join(root, name, RECORD), 'utf8')) as InfluxBackup)
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

export async function backupInflux(s: BackupSettings, kind: 'full' | 'incremental'): Promise<InfluxBackup> {
  const previous = listInfluxBackups(s).at(-1);
  const actualKind = previous ? kind : 'full';
  const started = new Date();
  const name = `${stamp(started)}-${actualKind}`;
  const dir = join(influxRoot(s), name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const args = ['backup', '-portable', '-host', s.influxRpc];
  const since =
    actualKind === 'incremental' && previous
      ? new Date(Date.parse(previous.startedAt) - SINCE_MARGIN_MS).toISOString().replace(/\.\d+Z$/, 'Z')
      : undefined;
  if (since) args.push('-since', since);
  await runTool('influxd', [...args, dir]);
  const bytes = readdirSync(dir).reduce((sum, file) => sum + statSync(join(dir, file)).size, 0);
  const backup: InfluxBackup = {
    name,
    dir,
    kind: actualKind,
    startedAt: started.toISOString(),
    completedAt: new Date().toISOString(),
    ...(since ? { since } : {}),
    bytes,
  };
  writeFileSync(join(dir, RECORD), `${JSON.stringify(backup, null, 2)}\n`, { mode: 0o600 });
  return backup;
}

/** The backups to restore for `target` (default: the newest): the last full completed by then and its incrementals. */
export function influxChain(backups: InfluxBackup[], target?: Date): InfluxBackup[] {
  const usable = target ? backups.filter((b) => Date.parse(b.completedAt) <= target.getTime()) : backups;
  const fullIndex = usable.findLastIndex((b) => b.kind === 'full');
  return fullIndex < 0 ? [] : usable.slice(fullIndex);
}

interface Manifest {
  meta: { fileName: string; size: number };
  files?: { fileName: string; size: number }[];
}
function manifestOf(backup: InfluxBackup): Manifest | null {
  const name = existsSync(backup.dir) ? readdirSync(backup.dir).find((f) => f.endsWith('.manifest')) : undefined;
  return name ? (JSON.parse(readFileSync(join(backup.dir, name), 'utf8')) as Manifest) : null;
}
const shardFiles = (backup: InfluxBackup) => manifestOf(backup)?.files ?? [];

/** Bytes a gzip file holds once decompressed (its CRC checked on the way), streamed: shards can be large. */
async function gunzippedSize(path: string): Promise<number> {
  let size = 0;
  const counter = new Writable({
    write(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      done();
    },
  });
  await pipeline(createReadStream(path), createGunzip(), counter);
  return size;
}

/**
 * What is wrong with a backup's files, empty when sound: each shard archive must decompress intact
 * to the size its manifest records (the meta file is checked for presence only: InfluxDB 1.6
 * records its size before it adds the file's own header).
 */
export async function verifyInfluxBackup(backup: InfluxBackup): Promise<string[]> {
  const manifest = manifestOf(backup);
  if (!manifest) return [`${backup.name}: no manifest`];
  if (!existsSync(join(backup.dir, manifest.meta.fileName)))
    return [`${backup.name}: ${manifest.meta.fileName} is missing`];
  const problems: string[] = [];
  for (const file of manifest.files ?? []) {
    const path = join(backup.dir, file.fileName);
    if (!existsSync(path)) {
      problems.push(`${backup.name}: ${file.fileName} is missing`);
      continue;
    }
    const size = await gunzippedSize(path).catch((error: Error) => error);
    if (size instanceof Error) problems.push(`${backup.name}: ${file.fileName} is damaged (${size.message})`);
    else if (size !== file.size)
      problems.push(`${backup.name}: ${file.fileName} holds ${size} bytes, the manifest says ${file.size}`);
  }
  return problems;
}

/**
 * Restores a chain into an InfluxDB that has no `database` yet (a fresh one): the full backup as is
 * (databases, retention policies, continuous queries; not users: setup's bootstrap makes those),
 * then each incremental through a scratch database. `admin` is called once the full backup is in
 * (users must exist before the incrementals are copied with queries).
 */
export async function restoreInfluxChain(
  s: BackupSettings,
  chain: InfluxBackup[],
  database: string,
  admin: () => Promise<InfluxClient>,
  say: (line: string) => void,
): Promise<void> {
  const [full, ...incrementals] = chain;
  if (!full) throw new Error('no InfluxDB full backup to restore');
  // influxd refuses to restore a backup without any shard ("DB metadata not changed"): an empty
  // database is what the layout below makes anyway.
  if (shardFiles(full).length > 0) {
    await runTool('influxd', ['restore', '-portable', '-host', s.influxRpc, full.dir]);
    say(`InfluxDB: full backup ${full.name} restored`);
  } else say(`InfluxDB: full backup ${full.name} holds no data`);
  const influx = await admin();
  for (const backup of incrementals.filter((b) => shardFiles(b).length > 0)) {
    const scratch = `${database}_restore_${backup.name.replace(/\W/g, '_')}`;
    await influx.query(`DROP DATABASE "${scratch}"`, { database: null });
    await runTool('influxd', [
      'restore',
      '-portable',
      '-host',
      s.influxRpc,
      '-db',
      database,
      '-newdb',
      scratch,
      backup.dir,
    ]);
    const [policies = []] = await influx.query(`SHOW RETENTION POLICIES ON "${scratch}"`, { database: null });
    const [measurements = []] = await whileShardsRestore(() =>
      influx.query(`SHOW MEASUREMENTS ON "${scratch}"`, { database: null }),
    );
    let copied = 0;
    for (const [policy] of policies[0]?.values ?? []) {
      for (const [measurement] of measurements[0]?.values ?? []) {
        const [result = []] = await whileShardsRestore(() =>
          influx.query(
            `SELECT * INTO "${database}"."${policy}"."${measurement}" FROM "${scratch}"."${policy}"."${measurement}" GROUP BY *`,
            { database: null },
          ),
        );
        copied += Number(result[0]?.values[0]?.[1] ?? 0);
      }
    }
    await influx.query(`DROP DATABASE "${scratch}"`, { database: null });
    say(`InfluxDB: incremental backup ${backup.name} merged (${copied.toLocaleString('en')} points)`);
  }
}

/**
 * influxd restore returns while the shards it restored "live" may still be disabled for a moment;
 * a query meanwhile fails with "shard is disabled" (seen in the drill). Retried for up to three minutes.
 */
async function whileShardsRestore<T>(query: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      return await query();
    } catch (error) {
      if (!/shard is disabled/.test((error as Error).message) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** Removes InfluxDB backups older than the oldest full one kept. */
export function expireInfluxBackups(s: BackupSettings, keepFull: number, remove: (dir: string) => void): string[] {
  const backups = listInfluxBackups(s);
  const fulls = backups.filter((b) => b.kind === 'full');
  const oldestKept = fulls.at(-keepFull);
  if (!oldestKept || fulls.length <= keepFull) return [];
  const expired = backups.filter((b) => b.startedAt < oldestKept.startedAt);
  for (const b of expired) remove(b.dir);
  return expired.map((b) => b.name);
}
