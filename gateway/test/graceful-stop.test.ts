// Drill: the gateway's stop (SIGTERM: Gateway.stop, whose connection is its publisher's) finishes
// within its grace when the broker does not answer, and whatever ingest had not confirmed stays in
// the outbox for the next start. The stop waited for the flush under way and then ended with
// mqtt.js's graceful end, which waits for every PUBACK and SUBACK outstanding: with the broker
// silent (answers queued behind a backlog, a frozen broker) it waited out the keepalive (60-90 s,
// past the unit's TimeoutStopSec of 20 s: systemd kills it), and when the connection dropped
// meanwhile it waited for ever (mqtt.js drops a pending SUBSCRIBE without the event its end waits
// for, mqttjs/MQTT.js#952). Played by a proxy between the publisher and the broker that passes the
// CONNACK and withholds the rest (testing/mqtt-proxy.ts); the publisher and its outbox run here.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readMqttConfig } from '../../lib/config';
import { BrokerAdmin } from '../../lib/mqtt/broker-admin';
import { gatewayUsername, provisionGateway, removeGateway } from '../../lib/mqtt/gateway-accounts';
import { drillReading, ingestDrill, sleep, storedPerSerial } from '../../testing/drills';
import { type MqttProxy, mqttProxy } from '../../testing/mqtt-proxy';
import { env, registerFleet, waitFor } from '../../testing/services';
import { Outbox } from '../src/outbox';
import { Publisher, STOP_GRACE_MS } from '../src/publisher';

const drill = ingestDrill('test_drill_gateway_stop');
const dir = mkdtempSync(join(tmpdir(), 'gateway-stop-'));
const BASE_TS = Date.now() - 3_600_000;
let proxy: MqttProxy | undefined;
const running: { publisher: Publisher; outbox: Outbox }[] = [];
const gateways: string[] = [];

beforeAll(drill.setUp);
afterEach(async () => {
  for (const { publisher, outbox } of running.splice(0)) {
    await publisher.stop(0);
    outbox.close();
  }
  await proxy?.close();
  const admin = await BrokerAdmin.connect(readMqttConfig(env, 'ADMIN'));
  for (const id of gateways.splice(0)) await removeGateway(admin, id);
  await admin.close();
  await drill.tearDown();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A gateway of two registered inverters with its broker account. */
async function gatewayAccount(prefix: string): Promise<{ id: string; serials: string[]; password: string }> {
  const serials = await registerFleet(prefix, 2);
  const id = `${prefix.toLowerCase()}${process.pid}`;
  const admin = await BrokerAdmin.connect(readMqttConfig(env, 'ADMIN'));
  const password = (await provisionGateway(admin, id, serials, { rekey: true }))!;
  await admin.close();
  gateways.push(id);
  return { id, serials, password };
}

/** The gateway's publisher on its outbox in `dir`, to the broker at `url`, started. */
function startPublisher(account: { id: string; serials: string[]; password: string }, url: string) {
  const outbox = Outbox.open({ dir: join(dir, account.id), maxBytes: 4 << 20, segmentBytes: 1 << 20 });
  const publisher = new Publisher(outbox, {
    broker: { url, ca: '', username: gatewayUsername(account.id), password: account.password, clientId: account.id },
    serials: account.serials,
    backoff: { initialMs: 100, maxMs: 200 },
  });
  publisher.start();
  running.push({ publisher, outbox });
  return { publisher, outbox };
}

/** Readings `from` to `to - 1` of every serial, into the outbox (a poll each). */
function poll(outbox: Outbox, serials: string[], from: number, to: number): void {
  for (let seq = from; seq < to; seq++)
    outbox.append(
      serials.map((serial) => ({ serial, reading: { ...drillReading(BASE_TS, seq), state: 'MPPT' as const } })),
    );
}

/** 'stopped' and how long it took, or 'still running' after `ms`. */
async function stopWithin(publisher: Publisher, ms: number): Promise<{ outcome: string; tookMs: number }> {
  const startedMs = Date.now();
  const outcome = await Promise.race([publisher.stop().then(() => 'stopped'), sleep(ms).then(() => 'still running')]);
  return { outcome, tookMs: Date.now() - startedMs };
}

describe('drill: the gateway stops when the broker does not answer', () => {
  it('stops within its grace while the broker is connected and silent; what was not confirmed goes on the next start', async () => {
    const account = await gatewayAccount('GWSTOPS');
    await drill.workers.start();
    proxy = await mqttProxy(env.MQTT_URL!);
    const { publisher, outbox } = startPublisher(account, proxy.url);
    await waitFor('confirmations granted', async () => publisher.confirming, Boolean, 15_000, 100);
    poll(outbox, account.serials, 0, 5);
    publisher.wake();
    await waitFor(
      'the first polls confirmed',
      async () => outbox.stats().pendingReadings,
      (n) => n === 0,
      30_000,
      100,
    );

    proxy.stall(); // from now on no PUBACK, no confirmation
    poll(outbox, account.serials, 5, 15);
    publisher.wake();
    await sleep(500); // published, unanswered
    const { outcome, tookMs } = await stopWithin(publisher, 20_000);
    expect(outcome).toBe('stopped');
    expect(tookMs).toBeLessThan(STOP_GRACE_MS + 3000);
    expect(outbox.stats().pendingReadings).toBe(20); // nothing confirmed is nothing removed
    running.splice(0);
    outbox.close();

    // The next start (straight to the broker) sends them: every reading stored, once.
    const next = startPublisher(account, env.MQTT_URL!);
    await waitFor(
      'the outbox sent',
      async () => next.outbox.stats().pendingReadings,
      (n) => n === 0,
      30_000,
      100,
    );
    const stored = await storedPerSerial(drill.influx, 'GWSTOPS');
    for (const serial of account.serials)
      expect(
        [...(stored.get(serial) ?? [])].sort((a, b) => a - b),
        serial,
      ).toEqual([...Array(15).keys()]);
  });

  it('stops when the connection drops while its SUBSCRIBE waits for an answer', async () => {
    const account = await gatewayAccount('GWSTOPC');
    proxy = await mqttProxy(env.MQTT_URL!);
    const { publisher } = startPublisher(account, proxy.url);
    await waitFor('connected', async () => publisher.confirming, Boolean, 15_000, 100);
    proxy.stall();
    proxy.cut(); // connected again at once, its confirmations' SUBSCRIBE unanswered
    await waitFor(
      'connected again',
      async () => publisher.connected && publisher.counts.connects,
      (n) => n === 2,
      15_000,
      50,
    );
    const stopped = stopWithin(publisher, 20_000);
    await sleep(500);
    proxy.cut(); // lost while stopping: nothing will answer the SUBSCRIBE now
    const { outcome, tookMs } = await stopped;
    expect(outcome).toBe('stopped');
    expect(tookMs).toBeLessThan(STOP_GRACE_MS);
  });
});
