// Where a profile's data and its backups live, read from the environment setup writes
// (.data/<profile>/platform.env). Paths below SOLAR_DATA_DIR follow ops/setup.sh's layout.
import { join } from 'node:path';
import { type Env, EnvReader } from '../../lib/config';

export interface BackupSettings {
  dataDir: string;
  backupDir: string;
  /** pgBackRest's configuration (written by setup): the repository, the cluster, retention. */
  pgbackrestConfig: string;
  postgresDataDir: string;
  pgPassword: string;
  /** InfluxDB's backup/restore RPC address (`bind-address` in influxdb.conf). */
  influxRpc: string;
  influxDataDir: string;
  ingestDataDir: string;
  secretsFile: string;
  /** Full backups kept (older ones and everything that depends on them are removed). */
  retentionFull: number;
  /** `check` fails when the newest backup is older than this. */
  maxAgeHours: number;
}

export function readBackupSettings(env: Env): BackupSettings {
  const r = new EnvReader(env);
  const dataDir = r.string('SOLAR_DATA_DIR');
  const owner = r.url('DATABASE_OWNER_URL', ['postgresql:', 'postgres:']);
  return r.done({
    dataDir,
    backupDir: r.string('BACKUP_DIR', join(dataDir, 'backups')),
    pgbackrestConfig: r.string('PGBACKREST_CONFIG', join(dataDir, 'backups/pgbackrest/pgbackrest.conf')),
    postgresDataDir: join(dataDir, 'postgres/data'),
    pgPassword: owner ? decodeURIComponent(new URL(owner).password) : '',
    influxRpc: r.string('INFLUX_BACKUP_ADDRESS'),
    influxDataDir: join(dataDir, 'influxdb'),
    ingestDataDir: r.string('INGEST_DATA_DIR', join(dataDir, 'ingest')),
    secretsFile: join(dataDir, 'secrets.env'),
    retentionFull: r.integer('BACKUP_RETENTION_FULL', 4, 1, 1000),
    maxAgeHours: r.integer('BACKUP_MAX_AGE_HOURS', 26, 1, 24 * 366),
  });
}
