// Drill: a broker that stops routing telemetry to ingest while the connection stays up and the
// subscription looks granted (Mosquitto 2.0.11 after a restart: session "present", the `$share`
// subscription gone; ingest sat connected, "ok" and deaf). Played by a proxy in front of the broker
// (testing/mqtt-proxy.ts). Ingest must notice from the broker's own publish count, say so in
// /healthz and its metrics, subscribe again, and receive again once a SUBSCRIBE is honoured. The
// readings lost are exactly those the "broker" dropped while it was deaf: the watchdog bounds the
// loss to its detection time (INGEST_SILENCE_MS plus the broker's $SYS interval), it cannot undo it.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../../lib/telemetry/contract';
import { compare, ingestDrill, sleep, startTraffic, storedPerSerial } from '../../../testing/drills';
import { type MqttProxy, mqttProxy } from '../../../testing/mqtt-proxy';
import { ingestHealth, ingestMetric, registerFleet, waitFor } from '../../../testing/services';

const drill = ingestDrill('test_drill_silence');
const { workers } = drill;
let proxy: MqttProxy | undefined;

beforeAll(drill.setUp);
afterEach(async () => {
  await proxy?.close();
  await drill.tearDown();
});

describe('drill: connected but receiving nothing', () => {
  it('notices a broker that stops routing to it, says so, subscribes again and receives again', async () => {
    const serials = await registerFleet('SILENT', 20);
    proxy = await mqttProxy(process.env.MQTT_URL!);
    const w = await workers.start({
      MQTT_URL: proxy.url,
      INGEST_SILENCE_MS: '3000',
      INGEST_SILENCE_MIN_BROKER_PUBLISHES: '20',
    });
    const port = w.proc.port;
    const traffic = await startTraffic({ serials, ratePerSerial: 5 });
    try {
      await sleep(2000);
      proxy.deafen(false); // a SUBSCRIBE does not help yet: the state must show for as long as it lasts
      const starved = await waitFor(
        'ingest to say it receives nothing',
        () => ingestHealth(port),
        (h) => h.receiving === false,
        40_000,
        200,
      );
      expect(starved).toMatchObject({ httpStatus: 503, status: 'degraded', mqttConnected: true, subscribed: true });
      expect(starved.problems).toContainEqual(
        expect.stringMatching(/^connected but receiving nothing for \d+ s while the broker receives publishes$/),
      );
      expect(await ingestMetric(port, 'ingest_receiving_nothing')).toBe(1);
      expect(await ingestMetric(port, 'ingest_watchdog_resubscribes')).toBeGreaterThanOrEqual(1);

      // The broker honours subscriptions again: the watchdog's next SUBSCRIBE restores the flow.
      const tries = await ingestMetric(port, 'ingest_watchdog_resubscribes');
      proxy.healOnSubscribe();
      await waitFor(
        'ingest receiving again',
        () => ingestHealth(port),
        (h) => h.receiving === true && h.status === 'ok',
        40_000,
        200,
      );
      expect(proxy.deaf).toBe(false);
      expect(await ingestMetric(port, 'ingest_watchdog_resubscribes')).toBeGreaterThan(tries);
      expect(await ingestMetric(port, 'ingest_receiving_nothing')).toBe(0);
      await sleep(2000); // readings after the recovery must arrive too
    } finally {
      await traffic.stop();
    }
    const dropped: Record<string, number> = {};
    for (const serial of serials) {
      const n = proxy.dropped.get(telemetryTopic(serial)) ?? 0;
      if (n > 0) dropped[serial] = n;
    }
    const droppedTotal = Object.values(dropped).reduce((a, b) => a + b, 0);
    const report = await waitFor(
      'everything the deaf broker did not drop to be stored',
      async () => compare(traffic.acked, await storedPerSerial(drill.influx, 'SILENT')),
      (r) => r.lost <= droppedTotal,
      30_000,
      500,
    );
    console.log('silence watchdog:', traffic.sentTotal(), 'sent', JSON.stringify({ ...report, missing: undefined }));
    expect(report.published).toBe(traffic.sentTotal());
    expect(report.lost).toBeGreaterThan(0); // the fault is real: a deaf broker loses what it drops
    expect(report.missing).toEqual(dropped); // and that is all that is lost, per serial
    expect(report).toMatchObject({ duplicates: 0, unexpected: 0 });
  });
});
