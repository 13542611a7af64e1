// A configuration that says only what differs per site (the gateway's id, its broker account, its
// inverters) starts a gateway that polls every 10 s, keeps a 64 MiB outbox in systemd's state
// directory and sizes its reconnects to the default fleet (gateway/README.md, "Running it").
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMqttConfig } from '../../lib/config';
import { BrokerAdmin } from '../../lib/mqtt/broker-admin';
import { gatewayUsername, provisionGateway, removeGateway } from '../../lib/mqtt/gateway-accounts';
import { env, waitFor } from '../../testing/services';

const dir = mkdtempSync(join(tmpdir(), 'gateway-minimal-'));
const id = `minimal${process.pid}`;
const serial = `MIN${process.pid}`;
let file: string;

beforeAll(async () => {
  const admin = await BrokerAdmin.connect(readMqttConfig(env, 'ADMIN'));
  const password = (await provisionGateway(admin, id, [serial], { rekey: true }))!;
  await admin.close();
  const minimal = {
    gatewayId: id,
    broker: { url: env.MQTT_TLS_URL, caFile: env.MQTT_TLS_CA_FILE, username: gatewayUsername(id), password },
    // Nothing listens on port 9: the poll reports the inverter unreachable, the gateway keeps running.
    links: [{ kind: 'tcp', host: '127.0.0.1', port: 9, inverters: [{ serial, unitId: 1 }] }],
  };
  file = join(dir, 'gateway.json');
  writeFileSync(file, JSON.stringify(minimal), { mode: 0o600 });
});
afterAll(async () => {
  const admin = await BrokerAdmin.connect(readMqttConfig(env, 'ADMIN'));
  await removeGateway(admin, id);
  await admin.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a minimal gateway configuration', () => {
  it('starts, connects over TLS and keeps its outbox in the state directory', async () => {
    const state = join(dir, 'state');
    mkdirSync(state, { mode: 0o700 });
    let output = '';
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', 'gateway/src/main.ts', 'run', '--config', file],
      {
        env: { ...env, STATE_DIRECTORY: state, LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout!.on('data', (d) => {
      output += d;
    });
    child.stderr!.on('data', (d) => {
      output += d;
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const statusFile = join(state, 'outbox', 'status.json');
      const status = await waitFor(
        'status.json saying connected',
        async () => (existsSync(statusFile) ? JSON.parse(readFileSync(statusFile, 'utf8')) : null),
        (s) => s?.connected === true && s.polls >= 1,
        90_000,
        500,
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${output.slice(-2000)}`);
      });
      expect(status.settings).toEqual({
        pollSeconds: 10,
        outboxMaxBytes: 64 * 1024 * 1024,
        reconnectWindowS: 100,
        catchUpReadingsPerSecond: 5,
      });
      expect(output).toMatch(/1 inverters every 10 s, outbox \S+state\/outbox \(up to 67108864 bytes\)/);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
