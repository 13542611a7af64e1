// Drill: rolling restarts under a live fleet, as an operator upgrades the platform: each ingest
// process stopped gracefully (SIGTERM: stop taking messages, ship the journal, exit 0) and started
// again on its own journal and broker session, then the broker, one after another. Every reading
// the broker acknowledged must be stored, per serial; each stop must be clean.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type DrillWorker,
  ingestDrill,
  ingestOkAgain,
  service,
  sleep,
  underLiveTraffic,
} from '../../../testing/drills';
import { ingestMetric, registerFleet } from '../../../testing/services';

const drill = ingestDrill('test_drill_rolling', ['mosquitto']);
const { workers } = drill;
beforeAll(drill.setUp);
afterEach(drill.tearDown);

/** Stops a worker gracefully, checks it left nothing behind, and starts it again as itself. */
async function restart(w: DrillWorker): Promise<DrillWorker> {
  expect(await workers.stop(w, 'SIGTERM'), w.proc.output()).toBe(0);
  expect(w.proc.output()).not.toMatch(/stopping with journaled data not yet in InfluxDB/);
  return workers.start({}, w); // same worker id, journal and broker session
}

describe('drill: rolling restarts under a live fleet', () => {
  it('loses nothing when the worker, then the broker, are restarted as deployed by default (one worker)', async () => {
    const serials = await registerFleet('ROLLA', 40);
    let w = await workers.start();
    const label = 'rolling restart, one worker then the broker';
    await underLiveTraffic(drill.influx, label, { serials, ratePerSerial: 5 }, async () => {
      await sleep(2000);
      w = await restart(w); // the broker queues in its session meanwhile
      await sleep(1500);
      await service('restart', 'mosquitto');
      const port = w.proc.port;
      await ingestOkAgain(port, 'ingest subscribed again', 30_000);
      await sleep(1500);
    });
  });

  it('loses nothing when each worker of a share group is restarted in turn', async () => {
    const serials = await registerFleet('ROLLB', 40);
    const pair = [await workers.start({}, { group: `roll-${process.pid}` })];
    pair.push(await workers.start({}, { group: pair[0]!.group }));
    await underLiveTraffic(drill.influx, 'rolling restart of two workers', { serials, ratePerSerial: 5 }, async () => {
      await sleep(2000);
      for (let i = 0; i < pair.length; i++) {
        pair[i] = await restart(pair[i]!); // the other worker carries the load meanwhile
        await sleep(1500);
      }
    });
    for (const w of pair) expect(await ingestMetric(w.proc.port, 'ingest_readings_accepted_total')).toBeGreaterThan(0);
  });
});
