// The project's Mosquitto as configured by setup: authentication on, service accounts limited,
// QoS 1 messages queued without loss for a subscriber that is away or slow, and each device held to
// its fair share there.
import { readFileSync, statSync } from 'node:fs';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { readMqttConfig } from '../config';
import { BROKER_FAIR_SHARE } from '../telemetry/fair-share';
import { connectFleetClient, env, waitFor } from '../../testing/services';

const url = () => readMqttConfig(env, 'FLEET').url;
const attempt = (options: mqtt.IClientOptions) =>
  new Promise<string>((resolve) => {
    const client = mqtt.connect(url(), { reconnectPeriod: 0, connectTimeout: 5000, ...options });
    client.once('connect', () => {
      client.end();
      resolve('connected');
    });
    client.once('error', (error) => {
      client.end();
      resolve(error.message);
    });
  });

/** A connection as ingest's account (subscribe-only), once connected. */
async function ingestClient(clientId: string) {
  const ingest = readMqttConfig(env, 'INGEST');
  const client = mqtt.connect(ingest.url, {
    username: ingest.username,
    password: ingest.password,
    clientId,
    reconnectPeriod: 0,
  });
  await new Promise((resolve) => client.once('connect', resolve));
  return client;
}

describe('broker (real Mosquitto)', () => {
  it('refuses anonymous clients and wrong passwords', async () => {
    expect(await attempt({})).toMatch(/Not authorized|Bad username or password/);
    expect(await attempt({ username: 'svc:ingest', password: 'wrong' })).toMatch(
      /Not authorized|Bad username or password/,
    );
    const ingest = readMqttConfig(env, 'INGEST');
    expect(await attempt({ username: ingest.username, password: ingest.password })).toBe('connected');
  });

  it('lets the ingest account subscribe but not publish, and the fleet account publish but not subscribe', async () => {
    const watcher = await ingestClient(`acl-watch-${process.pid}`);
    const seen: string[] = [];
    watcher.on('message', (_topic, payload) => seen.push(payload.toString()));
    await watcher.subscribeAsync('solar/v1/ACLTEST/#', { qos: 1 });

    const intruder = await ingestClient(`acl-pub-${process.pid}`);
    await intruder.publishAsync('solar/v1/ACLTEST/telemetry', 'from ingest', { qos: 1 }).catch(() => undefined);
    const fleet = await connectFleetClient(`acl-fleet-${process.pid}`);
    await fleet.publishAsync('solar/v1/ACLTEST/telemetry', 'from fleet', { qos: 1 });
    await waitFor(
      'the fleet message',
      async () => seen.length,
      (n) => n >= 1,
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toEqual(['from fleet']); // the ingest account's publish was dropped

    const subscribed = await fleet.subscribeAsync('solar/v1/#', { qos: 1 }).then(
      () => 'granted',
      (e: Error) => e.message,
    );
    expect(subscribed).toMatch(/Subscribe error/);
    await Promise.all([watcher.endAsync(), intruder.endAsync(), fleet.endAsync()]);
  });

  it('carries a datalogger flush up to 2 MiB and refuses larger packets instead of buffering them', async () => {
    const watcher = await ingestClient(`size-watch-${process.pid}`);
    const sizes: number[] = [];
    watcher.on('message', (_topic, payload) => sizes.push(payload.length));
    await watcher.subscribeAsync('solar/v1/SIZETEST/#', { qos: 1 });
    const fleet = await connectFleetClient(`size-fleet-${process.pid}`, { reconnectPeriod: 0 });
    const closed = new Promise((resolve) => {
      fleet.once('close', () => resolve('closed'));
      setTimeout(() => resolve('still connected after 10 s'), 10_000);
    });
    // A week of 5-minute readings (~2,000 x 250 bytes) is ~0.5 MB; 1.5 MB still reaches ingest,
    // which records it as too large with a reason.
    await fleet.publishAsync('solar/v1/SIZETEST/telemetry', Buffer.alloc(1_500_000, 0x20), { qos: 1 });
    fleet.publish('solar/v1/SIZETEST/telemetry', Buffer.alloc(3 * 1_048_576, 0x20), { qos: 1 });
    expect(await closed).toBe('closed'); // the broker hangs up on an oversized packet
    await waitFor(
      'the 1.5 MB message',
      async () => sizes.length,
      (n) => n >= 1,
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(sizes).toEqual([1_500_000]);
    fleet.end(true);
    await watcher.endAsync();
  });

  it(
    'slows a device beyond its fair share: the message beyond it is not acknowledged but its connection closed, ' +
      'nothing acknowledged is lost, and its serial is logged',
    async () => {
      const log = '.data/test/mosquitto/mosquitto.log';
      const logStart = statSync(log).size;
      const serial = `SHARE${process.pid}`;
      const topic = `solar/v1/${serial}/telemetry`;
      const watcher = await ingestClient(`share-watch-${process.pid}`);
      const received = new Set<string>();
      watcher.on('message', (_topic, payload) => received.add(payload.toString()));
      await watcher.subscribeAsync(topic, { qos: 1 });

      const device = await connectFleetClient(`share-device-${process.pid}`, { reconnectPeriod: 100 });
      let closed = 0;
      device.on('close', () => closed++);
      // Its burst at once, then 40 more: two seconds' worth of its rate.
      const total = BROKER_FAIR_SHARE.messageBurst + 2 * BROKER_FAIR_SHARE.messagesPerSecond;
      const started = Date.now();
      await Promise.all(Array.from({ length: total }, (_, i) => device.publishAsync(topic, String(i), { qos: 1 })));
      const tookMs = Date.now() - started;
      await device.endAsync();
      expect(closed).toBeGreaterThan(0);
      expect(tookMs).toBeGreaterThanOrEqual(1000); // held to its rate beyond the burst
      await waitFor(
        `${total} messages delivered`,
        async () => received.size,
        (n) => n >= total,
        10_000,
        100,
      );
      await watcher.endAsync();
      const logged = await waitFor(
        "the broker's log naming the device (every 10 s)",
        async () => readFileSync(log).subarray(logStart).toString(),
        (text) => text.includes(`fair share: device ${serial} over its share at the broker`),
        15_000,
        250,
      );
      expect(logged).toMatch(
        new RegExp(
          `fair share: device ${serial} over its share at the broker .*: \\d+ message\\(s\\) of \\d+ bytes refused`,
        ),
      );
    },
  );

  it('queues more than 1,000 QoS 1 messages for an absent subscriber without dropping any', async () => {
    const ingestConfig = readMqttConfig(env, 'INGEST');
    const clientId = `queue-probe-${process.pid}`;
    const options = {
      username: ingestConfig.username,
      password: ingestConfig.password,
      clientId,
      protocolVersion: 5 as const,
      clean: false,
      properties: { sessionExpiryInterval: 300 },
    };
    const first = mqtt.connect(ingestConfig.url, options);
    await new Promise((resolve) => first.once('connect', resolve));
    // Ten devices, so each stays within its fair share at the broker (ops/broker/fair-share-plugin.c).
    const topics = Array.from({ length: 10 }, (_, k) => `solar/v1/QUEUE${k}/telemetry`);
    await first.subscribeAsync(topics, { qos: 1 });
    await first.endAsync(); // away: the broker must keep everything for the session

    const publisher = await connectFleetClient(`queue-pub-${process.pid}`);
    const total = 5000;
    for (let sent = 0; sent < total; sent += 500) {
      await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          publisher.publishAsync(topics[i % topics.length]!, String(sent + i), { qos: 1 }),
        ),
      );
    }
    await publisher.endAsync();

    const received = new Set<string>();
    const back = mqtt.connect(ingestConfig.url, options);
    back.on('message', (_topic, payload) => received.add(payload.toString()));
    await waitFor(
      `${total} queued messages`,
      async () => received.size,
      (n) => n >= total,
      30_000,
      100,
    );
    expect(received.size).toBe(total);
    await back.endAsync();
    // Remove the session (clean start, no expiry) once the receiver has gone.
    const cleanup = await mqtt.connectAsync(ingestConfig.url, {
      ...options,
      clean: true,
      properties: { sessionExpiryInterval: 0 },
    });
    await cleanup.endAsync();
  });
});
