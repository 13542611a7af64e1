// Per-device credentials on the real broker: publish only under its own serial; revoked = refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAs, env, waitFor, watchTopics } from '../../testing/services';
import { readMqttConfig } from '../config';
import { BrokerAdmin } from '../mqtt/broker-admin';
import { provisionDevice, revokeDevice } from '../mqtt/device-accounts';

let admin: BrokerAdmin;
beforeAll(async () => {
  admin = await BrokerAdmin.connect(readMqttConfig(env, 'ADMIN'));
});
afterAll(async () => {
  await admin.close();
});

describe('device accounts (real broker)', () => {
  it('let an inverter publish under its own serial only, and not connect once revoked', async () => {
    const serial = `ACCT${process.pid}`;
    const password = await provisionDevice(admin, serial);
    const watcher = await watchTopics();

    const device = await connectAs(serial, password);
    if (typeof device === 'string') throw new Error(device);
    await device.publishAsync(`solar/v1/${serial}/telemetry`, '{}', { qos: 1 });
    await waitFor(
      'its own message',
      async () => watcher.seen.filter((t) => t.includes(serial)).length,
      (n) => n === 1,
    );
    // Publishing under another serial is dropped (Mosquitto also closes a v3.1.1 client for it).
    await device.publishAsync(`solar/v1/OTHER${process.pid}/telemetry`, '{}', { qos: 1 }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    expect(watcher.seen.filter((t) => t.includes(`OTHER${process.pid}`))).toEqual([]);
    device.end(true);

    expect(await connectAs(serial, 'not-the-password')).toMatch(/Not authorized|Bad username or password/);
    await revokeDevice(admin, serial);
    expect(await connectAs(serial, password)).toMatch(/Not authorized|Bad username or password/);
    await revokeDevice(admin, serial); // idempotent
    await watcher.close();
  });
});
