// The administration connection closes when the broker stopped answering. A command the broker did
// not answer leaves its publish unacknowledged, and mqtt.js's graceful end waits for that PUBACK:
// past the keepalive, and for ever once the connection is gone (mqttjs/MQTT.js#952), so a caller
// that gave up on the command and closed (every ops command, the API's shutdown) hung there.
// Played by a proxy that passes the CONNACK and withholds the rest (testing/mqtt-proxy.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { readMqttConfig } from '../config';
import { BrokerAdmin } from '../mqtt/broker-admin';
import { sleep } from '../../testing/drills';
import { type MqttProxy, mqttProxy } from '../../testing/mqtt-proxy';
import { env } from '../../testing/services';

let proxy: MqttProxy | undefined;
afterEach(async () => {
  await proxy?.close();
});

/** Connected through the proxy, then a command that gets no answer; 'closed' or 'still open' after 10 s. */
async function closeAfterUnansweredCommand(thenCut: boolean): Promise<{ outcome: string; tookMs: number }> {
  const config = readMqttConfig(env, 'ADMIN');
  proxy = await mqttProxy(config.url);
  const admin = await BrokerAdmin.connect({ ...config, url: proxy.url });
  proxy.stall();
  await expect(admin.run({ command: 'listRoles' }, 300)).rejects.toThrow(/no answer to listRoles/);
  const startedMs = Date.now();
  const closing = Promise.race([admin.close().then(() => 'closed'), sleep(10_000).then(() => 'still open')]);
  if (thenCut) {
    await sleep(200);
    proxy.cut();
  }
  return { outcome: await closing, tookMs: Date.now() - startedMs };
}

describe('the broker administration connection', () => {
  it('closes within its grace while the broker is connected and silent', async () => {
    const { outcome, tookMs } = await closeAfterUnansweredCommand(false);
    expect(outcome).toBe('closed');
    expect(tookMs).toBeLessThan(5000);
  });

  it('closes when the connection drops while it waits for the acknowledgement', async () => {
    const { outcome, tookMs } = await closeAfterUnansweredCommand(true);
    expect(outcome).toBe('closed');
    expect(tookMs).toBeLessThan(2000);
  });
});
