// Drill: a SIGTERM stop finishes when the broker no longer answers. The graceful end waits for what
// the worker sent to be acknowledged (its SUBSCRIBEs on a fresh connection, confirmations); under a
// backlog those answers queue behind thousands of messages, and when the connection then dropped the
// stop waited for them for ever: the process stayed up, /healthz answering "not connected to the
// broker", until it was killed (bench:ingest, 8 minutes). Played by a proxy in front of the broker
// that passes the worker's CONNACK and withholds the rest (testing/mqtt-proxy.ts).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DrillWorker, ingestDrill, sleep } from '../../../testing/drills';
import { type MqttProxy, mqttProxy } from '../../../testing/mqtt-proxy';
import { ingestHealth, ingestMetric, waitFor } from '../../../testing/services';

const drill = ingestDrill('test_drill_graceful_stop');
const { workers } = drill;
let proxy: MqttProxy | undefined;

beforeAll(drill.setUp);
afterEach(async () => {
  await proxy?.close();
  await drill.tearDown();
});

/** A worker connected through a stalled broker: connected again, its SUBSCRIBEs never answered. */
async function workerWithUnansweredSubscribe(): Promise<DrillWorker> {
  proxy = await mqttProxy(process.env.MQTT_URL!);
  const w = await workers.start({ MQTT_URL: proxy.url });
  proxy.stall();
  proxy.cut();
  await waitFor(
    'ingest connected again, its SUBSCRIBE unanswered',
    () => ingestHealth(w.proc.port),
    (h) => h.mqttConnected === true && h.subscribed === false,
    30_000,
    100,
  );
  // The connection lost and made again is counted, for the alert on one that keeps dropping (ops/monitor/rules.yml).
  expect(await ingestMetric(w.proc.port, 'ingest_broker_reconnects_total')).toBe(1);
  return w;
}

/** The exit code, or 'still running' after `ms`. */
const exitWithin = (w: DrillWorker, ms: number) =>
  Promise.race([w.proc.stop('SIGTERM'), sleep(ms).then(() => 'still running' as const)]);

describe('drill: a graceful stop when the broker does not answer', () => {
  it('finishes when the connection drops while the stop waits for the broker', async () => {
    const w = await workerWithUnansweredSubscribe();
    const exited = exitWithin(w, 20_000);
    await sleep(500);
    proxy!.cut(); // lost while stopping: mqtt.js neither connects again nor finishes its end
    expect(await exited, w.proc.output()).toBe(0);
  });

  it('finishes within its grace while the broker stays connected and silent', async () => {
    const w = await workerWithUnansweredSubscribe();
    const startedMs = Date.now();
    expect(await exitWithin(w, 20_000), w.proc.output()).toBe(0);
    expect(Date.now() - startedMs).toBeLessThan(15_000); // the 5 s grace, and the journal shipped
  });
});

describe('drill: a SUBSCRIBE lost with its connection', () => {
  it('is not taken for one the broker refused', async () => {
    const w = await workerWithUnansweredSubscribe();
    proxy!.cut(); // the SUBSCRIBEs waiting for their SUBACK fail with "Connection closed"
    await waitFor(
      'ingest connected again',
      () => ingestMetric(w.proc.port, 'ingest_broker_reconnects_total'),
      (n) => n === 2,
      30_000,
      100,
    );
    await sleep(500);
    // The broker refused nothing: no advice to change the ingest account's role or re-run setup.
    expect(w.proc.output()).not.toMatch(/refused|re-run setup/);
  });
});
