// Drill: a worker holding its acknowledgements (here: free disk under its reserve) keeps its broker
// connection through the hold. mqtt.js reads nothing behind the held message, the PINGRESP included,
// and closed the connection at its keepalive timeout (1.5 keepalives after the last acknowledgement):
// the broker sent everything held again, a drop every 90 s at the default keepalive, and
// IngestBrokerReconnecting fired during any hold over ~5 minutes. The keepalive is shortened here
// (INGEST_MQTT_KEEPALIVE_S = 2: a timeout at 3 s) so that a hold of 10 s is three of them.
import { rmSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fillDisk, ingestDrill, sleep, smallFilesystem, underLiveTraffic } from '../../../testing/drills';
import { ingestHealth, ingestMetric, registerFleet, waitFor } from '../../../testing/services';

const drill = ingestDrill('test_drill_held_keepalive');
const { workers } = drill;
const disks: { release(): Promise<void> }[] = [];

beforeAll(drill.setUp);
afterEach(async () => {
  await drill.tearDown();
  for (const disk of disks.splice(0)) await disk.release();
});

describe('drill: acknowledgements held longer than the keepalive', () => {
  it('keeps the broker connection through the hold and stores everything once it ends', async () => {
    const disk = await smallFilesystem('1m');
    disks.push(disk);
    const serials = await registerFleet('HELDKA', 5);
    const settings = {
      INGEST_MQTT_KEEPALIVE_S: '2',
      INGEST_DISK_RESERVE_BYTES: '262144',
      INGEST_JOURNAL_SEGMENT_BYTES: '65536',
    };
    const w = await workers.start(settings, { dataDir: disk.dir });
    let reconnectsDuringHold = Number.NaN;
    await underLiveTraffic(drill.influx, 'held 10 s, keepalive 2 s', { serials, ratePerSerial: 2 }, async () => {
      const filler = await fillDisk(disk.dir);
      await waitFor(
        'acknowledgements held',
        () => ingestHealth(w.proc.port),
        (h) => h.acksHeld === true,
        30_000,
        200,
      );
      await sleep(10_000);
      reconnectsDuringHold = await ingestMetric(w.proc.port, 'ingest_broker_reconnects_total');
      rmSync(filler);
      await waitFor(
        'acknowledgements resumed',
        () => ingestHealth(w.proc.port),
        (h) => h.acksHeld === false && h.httpStatus === 200,
        30_000,
        200,
      );
      await sleep(1000); // traffic after the hold
    });
    expect({
      reconnectsDuringHold,
      logged: w.proc.output().match(/Keepalive timeout|broker connection lost/g) ?? [],
    }).toEqual({ reconnectsDuringHold: 0, logged: [] });
    expect(await ingestMetric(w.proc.port, 'ingest_broker_reconnects_total')).toBe(0);
  });
});
