// Drill: a worker that comes back to a backlog in its broker session keeps its connection while it
// works through it. Mosquitto 2.0.11 sends a subscriber its whole queue at once (past its Receive
// Maximum), and mqtt.js reads the PINGRESP only after every message before it: it took the broker
// for dead and closed the connection 1.5 keepalives in (bench:ingest lost it 90 s into every run
// longer than that), and the acknowledgements on their way came back as duplicates to judge. The
// keepalive is shortened here (INGEST_MQTT_KEEPALIVE_S) so that a backlog of seconds is longer than it.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ingestDrill } from '../../../testing/drills';
import { publishBurst } from '../../../testing/publish';
import { connectFleetClient, countPoints, FAIR_SHARE_LIFTED, registerFleet, waitFor } from '../../../testing/services';

const drill = ingestDrill('test_drill_backlog_keepalive');
const { workers } = drill;
beforeAll(drill.setUp);
afterEach(drill.tearDown);

describe('drill: a backlog longer than the keepalive', () => {
  it('keeps the connection while the worker takes what its session queued', async () => {
    const readings = 120_000; // 8 s of work at 15,000 readings/s (a quiet machine), the keepalive's timeout 4.5 s
    const serials = await registerFleet('BACKLOGKA', 500); // 240 readings each, within the broker's burst
    // The backlog is taken at full rate: far over a device's fair share.
    const settings = { ...FAIR_SHARE_LIFTED, INGEST_MQTT_KEEPALIVE_S: '3' };
    const first = await workers.start(settings);
    await workers.stop(first); // SIGKILL: its session and subscription stay; the broker queues for it
    const clients = await Promise.all(
      [0, 1, 2, 3].map((i) => connectFleetClient(`backlog-pub-${process.pid}-${i}`, { protocolVersion: 5 })),
    );
    const { published } = await publishBurst(clients, {
      serials,
      readings,
      baseTs: Date.now() - 86_400_000,
      windowPerClient: 1000,
    });
    await Promise.all(clients.map((c) => c.endAsync()));
    expect(published).toBe(readings);

    const w = await workers.start(settings, first, (h) => h.mqttConnected === true);
    await waitFor(
      'the backlog stored',
      () => countPoints(drill.influx, 'telemetry'),
      (n) => n >= readings,
      300_000,
      500,
    );
    expect(w.proc.output()).not.toMatch(/broker connection lost/);
  }, 400_000);
});
