// Drill: the broker restarted under a live fleet, twice in a row, then again while ingest is
// itself down (kill -9) and restarting. Every reading the broker acknowledged must be stored, per
// serial. Ingest runs as deployed by default: one worker, a plain subscription (INGEST_SHARE_GROUP
// none), which Mosquitto restores from its persistence before it accepts any device.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { InfluxClient } from '../../../lib/influx/client';
import { awaitStored, ingestWorkers, service, sleep, startTraffic } from '../../../testing/drills';
import { freshInfluxDatabase, ingestHealth, registerFleet, waitFor } from '../../../testing/services';

const DATABASE = 'test_drill_broker';
let influx: InfluxClient;
const workers = ingestWorkers(DATABASE);

beforeAll(async () => {
  ({ influx } = await freshInfluxDatabase(DATABASE));
});
afterEach(async () => {
  await service('start', 'mosquitto');
  await workers.cleanup();
});
afterAll(() => service('start', 'mosquitto'));

describe('drill: broker restart under a live fleet', () => {
  it('stores every acknowledged reading across two broker restarts in a row, and ingest says it is subscribed again', async () => {
    const serials = await registerFleet('BRST', 40);
    const w = await workers.start();
    const traffic = await startTraffic({ serials, ratePerSerial: 5 });
    try {
      for (let round = 0; round < 2; round++) {
        await sleep(2000);
        await service('restart', 'mosquitto');
        await waitFor(
          'ingest subscribed again after the restart',
          () => ingestHealth(w.proc.port),
          (h) => h.subscribed === true && h.status === 'ok',
          30_000,
          100,
        );
      }
      await sleep(3000); // traffic after the second restart must arrive too
    } finally {
      await traffic.stop();
    }
    const report = await awaitStored(influx, 'BRST', traffic);
    console.log('broker restarted twice:', traffic.sentTotal(), 'sent', JSON.stringify(report));
    expect(report.published).toBe(traffic.sentTotal());
    expect(report).toMatchObject({ lost: 0, missing: {} });
    expect(w.proc.output()).not.toMatch(/subscription refused/);
  });

  it('stores every acknowledged reading when the broker restarts while ingest is itself down and restarting (kill -9)', async () => {
    const serials = await registerFleet('BRKI', 40);
    const first = await workers.start();
    const traffic = await startTraffic({ serials, ratePerSerial: 5 });
    try {
      await sleep(1500);
      await workers.stop(first); // kill -9: its session stays on the broker
      await service('restart', 'mosquitto');
      await sleep(1500);
      await workers.start({}, first);
      await sleep(3000);
    } finally {
      await traffic.stop();
    }
    const report = await awaitStored(influx, 'BRKI', traffic);
    console.log('broker restarted with ingest down:', JSON.stringify(report));
    expect(report.published).toBe(traffic.sentTotal());
    expect(report).toMatchObject({ lost: 0, missing: {} });
  });
});
