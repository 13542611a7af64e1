// The simulated fleet's broker account may publish for every serial, so it exists only where a
// simulated fleet runs: setup (bootstrap) never makes it, a fleet makes it when it starts
// (ensureFleetAccount, as the simulator CLI, the demo seed and the test harness do), and the
// operator's `npm run ops -- fleet-account remove` deletes it. Checked on an account of its own
// name: the real svc:simulated-fleet is in use by the other suites.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { BrokerAdmin } from '../../lib/mqtt/broker-admin';
import { ensureFleetAccount } from '../../lib/mqtt/service-accounts';
import { readMqttConfig } from '../../lib/config';
import { brokerLogin, env } from '../../testing/services';

const run = promisify(execFile);
const username = `svc:fleet-check-${randomBytes(4).toString('hex')}`;
const password = randomBytes(12).toString('base64url');
const fleetEnv = { ...env, MQTT_FLEET_USERNAME: username, MQTT_FLEET_PASSWORD: password };
const tsx = (...args: string[]) => run('npx', ['tsx', ...args], { env: fleetEnv, timeout: 120_000 });

afterAll(async () => {
  const admin = await BrokerAdmin.connect(readMqttConfig(env, 'ADMIN'));
  await admin.run({ command: 'deleteClient', username });
  await admin.close();
});

describe('the simulated-fleet broker account exists only where a fleet runs', () => {
  it('is not made by setup, is made by a starting fleet, and is removed by the operator', async () => {
    const bootstrap = await tsx('ops/bootstrap.ts');
    expect(bootstrap.stdout).toMatch(new RegExp(`no simulated-fleet account \\(a simulated fleet makes ${username}`));
    expect(await brokerLogin(username, password)).not.toBe('connected');

    expect(await ensureFleetAccount(fleetEnv)).toBe('created');
    expect(await brokerLogin(username, password)).toBe('connected');
    expect(await ensureFleetAccount(fleetEnv)).toBe('unchanged'); // a working account is left alone
    expect((await tsx('ops/cli.ts', 'fleet-account', 'status')).stdout).toMatch(`${username}: exists`);
    // A second setup leaves it as it is (and says how to remove it).
    expect((await tsx('ops/bootstrap.ts')).stdout).toMatch(/fleet-account remove/);
    expect(await brokerLogin(username, password)).toBe('connected');

    const removed = await tsx('ops/cli.ts', 'fleet-account', 'remove');
    expect(removed.stdout).toMatch(`fleet account ${username}: removed`);
    expect(await brokerLogin(username, password)).not.toBe('connected');
    expect((await tsx('ops/cli.ts', 'fleet-account', 'remove')).stdout).toMatch('absent, nothing to remove');
    expect((await tsx('ops/cli.ts', 'fleet-account', 'status')).stdout).toMatch(`${username}: absent`);
  });

  it('repairs a fleet account whose password is not the configured one, and never touches another kind of account', async () => {
    expect(await ensureFleetAccount(fleetEnv)).toBe('created');
    const admin = await BrokerAdmin.connect(readMqttConfig(env, 'ADMIN'));
    try {
      await admin.ensure({ command: 'setClientPassword', username, password: 'changed-elsewhere' });
      expect(await ensureFleetAccount(fleetEnv)).toBe('repaired');
      expect(await brokerLogin(username, password)).toBe('connected');
      // The same name holding the ingest role is not the fleet's: left alone, with a clear refusal.
      await admin.ensure({ command: 'addClientRole', username, rolename: 'ingest-service' });
      await expect(ensureFleetAccount(fleetEnv)).rejects.toThrow(/not only simulated-fleet/);
      const refused = await tsx('ops/cli.ts', 'fleet-account', 'remove').catch((error) => error);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/not the fleet account, left alone/);
      expect(refused.stderr).not.toMatch(/at .*\.ts:\d+/); // a refusal, not a crash
      expect(await brokerLogin(username, password)).toBe('connected');
    } finally {
      await admin.run({ command: 'deleteClient', username });
      await admin.close();
    }
  });
});
