// The broker's accounts survive a crash mid-save. Mosquitto 2.0.11 rewrites its dynamic-security file
// in place after every change; killed meanwhile, it leaves the file empty or cut short, and then starts
// with no account at all. The guard plugin (ops/broker/dynsec-guard-plugin.c), loaded before dynamic
// security on the same file, keeps a verified copy after each save and puts it back at start. Drilled
// on a scratch broker (its own port and directory) with the plugins setup built: a gateway account
// made, the broker killed with -9, its file emptied (what a kill mid-save leaves), then cut short; each
// time the restarted broker says it restored the copy and the account connects. Without the guard,
// the same file leaves no account; with neither file nor copy whole, the broker refuses to start.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerAdmin } from '../../lib/mqtt/broker-admin';
import { gatewayUsername, provisionGateway } from '../../lib/mqtt/gateway-accounts';
import { freePort, waitFor } from '../../testing/services';

const PROFILE = '.data/test/mosquitto';
const conf = readFileSync(join(PROFILE, 'mosquitto.conf'), 'utf8');
const GUARD = join(process.cwd(), PROFILE, 'dynsec_guard.so');
const DYNSEC = /^plugin (\S*mosquitto_dynamic_security\.so)$/m.exec(conf)?.[1];
const dir = mkdtempSync(join(process.cwd(), PROFILE, '..', 'dynsec-guard-'));
const FILE = join(dir, 'dynamic-security.json');
const LOG = join(dir, 'mosquitto.log');
const ADMIN = { username: 'svc:admin', password: randomBytes(12).toString('hex') };
let port: number;
let broker: ChildProcess | null = null;

/** Run as root, the broker changes to the mosquitto user, as the profile's does: the files are that user's. */
function ownAsTheBroker() {
  if (process.getuid?.() !== 0) return;
  const owner = statSync(PROFILE);
  for (const path of [dir, ...readdirSync(dir).map((f) => join(dir, f))]) chownSync(path, owner.uid, owner.gid);
}

/** Starts the scratch broker; `log()` is what it logged since. */
async function start(guarded: boolean): Promise<{ exitCode: number | null; log: () => string }> {
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [
      ...(process.getuid?.() === 0 ? ['user mosquitto'] : []),
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      ...(guarded ? [`plugin ${GUARD}`, `plugin_opt_file ${FILE}`] : []),
      `plugin ${DYNSEC}`,
      `plugin_opt_config_file ${FILE}`,
      `log_dest file ${LOG}`,
      'log_type all',
      '',
    ].join('\n'),
  );
  ownAsTheBroker();
  const from = existsSync(LOG) ? readFileSync(LOG, 'utf8').length : 0;
  const child = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  broker = child;
  const state = {
    exitCode: null as number | null,
    log: () => (existsSync(LOG) ? readFileSync(LOG, 'utf8').slice(from) : ''),
  };
  child.once('exit', (code) => {
    state.exitCode = code;
  });
  await waitFor(
    'the scratch broker running or stopped',
    async () => state.log(),
    (text) => state.exitCode !== null || text.includes(' running'),
    15_000,
    50,
  );
  return state;
}

async function killBroker(): Promise<void> {
  const child = broker;
  broker = null;
  if (!child || child.exitCode !== null) return;
  await new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGKILL');
  });
}

/** Whether the broker lets this account in. */
async function connects(username: string, password: string): Promise<boolean> {
  try {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      username,
      password,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    await client.endAsync();
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  port = await freePort();
  execFileSync('mosquitto_ctrl', ['dynsec', 'init', FILE, ADMIN.username, ADMIN.password], { stdio: 'ignore' });
});

afterAll(async () => {
  await killBroker();
  rmSync(dir, { recursive: true, force: true });
});

describe("the broker's accounts through a crash mid-save", () => {
  it('the profile loads the guard before dynamic security, on the same file', () => {
    const guard = conf.indexOf('dynsec_guard.so\nplugin_opt_file ');
    expect(guard).toBeGreaterThan(0);
    expect(guard).toBeLessThan(conf.indexOf('mosquitto_dynamic_security.so'));
    const files = [...conf.matchAll(/^plugin_opt_(?:file|config_file) (\S+dynamic-security\.json)$/gm)].map(
      (m) => m[1],
    );
    expect(files).toHaveLength(2);
    expect(files[0]).toBe(files[1]);
    expect(existsSync(GUARD), `${GUARD} (built by setup)`).toBe(true);
  });

  it('a file emptied or cut short by a kill -9 is restored from the verified copy, the accounts with it', async () => {
    expect((await start(true)).exitCode).toBeNull();
    const admin = await BrokerAdmin.connect({ url: `mqtt://127.0.0.1:${port}`, ...ADMIN });
    const id = `guard${process.pid}`;
    const password = (await provisionGateway(admin, id, [`GRD${process.pid}`], { rekey: true }))!;
    await admin.close();
    expect(await connects(gatewayUsername(id), password)).toBe(true);
    // The copy follows the saves (on the broker's tick, after the save).
    await waitFor(
      'the new account in the verified copy',
      async () => (existsSync(`${FILE}.verified`) ? readFileSync(`${FILE}.verified`, 'utf8') : ''),
      (text) => text.includes(gatewayUsername(id)),
      10_000,
      100,
    );
    const whole = readFileSync(FILE, 'utf8');
    for (const [what, left] of [
      ['empty (0 bytes)', ''],
      [`cut short (${Math.floor(whole.length / 2)} bytes`, whole.slice(0, Math.floor(whole.length / 2))],
    ] as const) {
      await killBroker();
      writeFileSync(FILE, left);
      const restarted = await start(true);
      expect(restarted.exitCode, what).toBeNull();
      expect(restarted.log()).toContain(`dynsec guard: ${FILE} was ${what}`);
      expect(readFileSync(FILE, 'utf8'), what).toBe(whole);
      expect(await connects(gatewayUsername(id), password), what).toBe(true);
      expect(await connects(ADMIN.username, ADMIN.password), what).toBe(true);
    }

    // Without the guard (the broker as it was), the same emptied file starts a broker with no account.
    await killBroker();
    writeFileSync(FILE, '');
    expect((await start(false)).exitCode).toBeNull();
    expect(await connects(gatewayUsername(id), password)).toBe(false);
    expect(await connects(ADMIN.username, ADMIN.password)).toBe(false);

    // Neither the file nor a copy whole: the guard refuses to start rather than run without accounts.
    await killBroker();
    writeFileSync(FILE, '');
    rmSync(`${FILE}.verified`);
    const refused = await start(true);
    await waitFor(
      'the broker to exit',
      async () => refused.exitCode,
      (code) => code !== null,
      10_000,
      50,
    );
    expect(refused.exitCode).not.toBe(0);
    expect(refused.log()).toMatch(/dynsec guard: .* is empty \(0 bytes\).*no whole verified copy/);
  }, 60_000);
});
