// Moving the broker's service accounts into the svc: namespace (setup on an existing broker):
// idempotent, keeps the password, and deletes an old name only while it is still that service's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMqttConfig } from '../config';
import { BrokerAdmin } from '../mqtt/broker-admin';
import { provisionDevice, revokeDevice } from '../mqtt/device-accounts';
import { ADMIN_ROLE, connectAdminMovingLegacy, retireLegacyAccount } from '../mqtt/service-accounts';
import { env } from '../../testing/services';

const config = readMqttConfig(env, 'ADMIN');
const run = `${process.pid}`;
let admin: BrokerAdmin;
beforeAll(async () => {
  admin = await BrokerAdmin.connect(config);
});
afterAll(async () => {
  await admin.close();
});
const exists = async (username: string) => !(await admin.run({ command: 'getClient', username })).error;

describe('service accounts in the svc: namespace', () => {
  it('move the administration account from its old name, keeping its password, once', async () => {
    const moved = { ...config, username: `svc:adm${run}`, password: `adm-pass-${run}` };
    await admin.ensureClient(`adm${run}`, moved.password, [ADMIN_ROLE]);
    const connected = await connectAdminMovingLegacy(moved);
    expect(await retireLegacyAccount(connected, moved.username, [ADMIN_ROLE])).toBe(true);
    expect(await retireLegacyAccount(connected, moved.username, [ADMIN_ROLE])).toBe(false);
    expect(await exists(`adm${run}`)).toBe(false);
    await connected.close();
    await (await connectAdminMovingLegacy(moved)).close(); // the second setup connects directly
    await admin.run({ command: 'deleteClient', username: moved.username });
  });

  it('leave an old name alone when it is no longer the service account (a device took it)', async () => {
    const serial = `ing${run}`;
    await provisionDevice(admin, serial);
    expect(await retireLegacyAccount(admin, `svc:${serial}`, ['ingest-service'])).toBe(false);
    expect(await exists(serial)).toBe(true);
    await revokeDevice(admin, serial);
    await expect(retireLegacyAccount(admin, 'ingest', ['ingest-service'])).rejects.toThrow(/svc:/);
  });
});
