// A simulated device's connection closes (the fleet's stop: Ctrl-C, SIGTERM, --duration) when the
// broker stopped answering. It published its `offline` status and waited for the PUBACK, then ended
// with mqtt.js's graceful end: with no answer coming, mqtt.js reconnected after its keepalive and
// sent the status again, for ever, and the fleet never stopped. Played by a proxy that passes the
// CONNACK and withholds the rest (testing/mqtt-proxy.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from '../../testing/drills';
import { type MqttProxy, mqttProxy } from '../../testing/mqtt-proxy';
import { statusTopic } from '../../lib/telemetry/contract';
import { connectFleetClient, fleetMqtt } from '../../testing/services';
import { DeviceConnection } from '../src/device-connection';

const serial = `CLOSE${process.pid}`;
let proxy: MqttProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  const client = await connectFleetClient(`close-cleanup-${process.pid}`);
  await client.publishAsync(statusTopic(serial), '', { qos: 1, retain: true }); // its retained status removed
  await client.endAsync();
});

describe('a simulated device connection', () => {
  it('closes within its grace when the broker stopped answering', async () => {
    const fleet = fleetMqtt();
    proxy = await mqttProxy(fleet.url);
    const device = new DeviceConnection(serial, { ...fleet, url: proxy.url });
    await device.connect();
    proxy.stall();
    const startedMs = Date.now();
    const outcome = await Promise.race([device.close().then(() => 'closed'), sleep(10_000).then(() => 'still open')]);
    expect(outcome).toBe('closed');
    expect(Date.now() - startedMs).toBeLessThan(5000);
  });
});
