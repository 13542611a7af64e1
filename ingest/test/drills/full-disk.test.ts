// Drill: the disk under ingest's journal fills up (a 1 MiB tmpfs mounted by the test), with
// InfluxDB away and with it up. Ingest must hold its acknowledgements and say why, never exit,
// start again on the full disk, give back the space of what it shipped, and lose nothing.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { InfluxClient } from '../../../lib/influx/client';
import {
  awaitStored,
  fillDisk,
  ingestWorkers,
  service,
  sleep,
  smallFilesystem,
  startTraffic,
} from '../../../testing/drills';
import { freshInfluxDatabase, ingestMetric, registerFleet, waitFor } from '../../../testing/services';

const DATABASE = 'test_drill_disk';
let influx: InfluxClient;
const workers = ingestWorkers(DATABASE);
const disks: { release(): Promise<void> }[] = [];

/** /healthz with its status code. */
const health = async (port: number): Promise<Record<string, unknown>> => {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { code: response.status, ...((await response.json()) as Record<string, unknown>) };
};
const journalFiles = (dataDir: string, worker: string) => readdirSync(join(dataDir, `worker-${worker}`, 'journal'));

beforeAll(async () => {
  ({ influx } = await freshInfluxDatabase(DATABASE));
});
afterEach(async () => {
  await service('start', 'influxdb');
  await workers.cleanup();
  for (const disk of disks.splice(0)) await disk.release();
});
afterAll(async () => {
  await service('start', 'influxdb');
});

describe('drill: a full disk under ingest', () => {
  it('holds acknowledgements on ENOSPC without exiting, starts again on the full disk after kill -9, and loses nothing', async () => {
    const disk = await smallFilesystem('1m');
    disks.push(disk);
    const serials = await registerFleet('DISKA', 40);
    const settings = {
      INGEST_DISK_RESERVE_BYTES: '0', // no reserve: the writes themselves must meet ENOSPC
      INGEST_JOURNAL_SEGMENT_BYTES: '65536',
      INFLUX_TIMEOUT_MS: '2000',
    };
    const first = await workers.start(settings, { dataDir: disk.dir });
    const traffic = await startTraffic({ serials, ratePerSerial: 10 });
    let second: typeof first | undefined;
    try {
      await service('stop', 'influxdb');
      const held = await waitFor(
        'acknowledgements held for the full disk',
        () => health(first.proc.port),
        (h) => h.acksHeld === true && /ENOSPC/.test(String(h.holdReason)),
        90_000,
        200,
      );
      expect(held.code).toBe(503);
      expect(held.problems).toEqual(
        expect.arrayContaining([expect.stringMatching(/^acknowledgements held: journal write failing \(ENOSPC\)/)]),
      );
      expect(await ingestMetric(first.proc.port, 'ingest_acks_held')).toBe(1);
      expect(await ingestMetric(first.proc.port, 'ingest_acks_held_for{reason="disk"}')).toBe(1);
      await sleep(2000);
      expect(first.proc.child.exitCode).toBeNull(); // held, not dead

      // Restarted on the full disk: the lock needs no free space, nothing is left behind per attempt.
      await workers.stop(first);
      second = await workers.start(settings, first);
      expect(journalFiles(disk.dir, first.worker).filter((f) => f.startsWith('LOCK.'))).toEqual([]);
    } finally {
      await service('start', 'influxdb');
    }
    await waitFor(
      'acknowledgements resumed',
      () => health(second!.proc.port),
      (h) => h.acksHeld === false && h.code === 200,
      90_000,
      250,
    );
    await sleep(2000); // traffic after the recovery
    await traffic.stop();
    const report = await awaitStored(influx, 'DISKA', traffic, 90_000);
    console.log('full disk, InfluxDB away, kill -9:', traffic.sentTotal(), 'sent', JSON.stringify(report));
    expect(report.published).toBe(traffic.sentTotal());
    expect(report).toMatchObject({ lost: 0, missing: {} });
  });

  it('keeps a disk smaller than one segment from filling with shipped data, holds under the reserve, and resumes when space is back', async () => {
    const disk = await smallFilesystem('1m');
    disks.push(disk);
    const serials = await registerFleet('DISKB', 40);
    // The default 8 MiB segment is larger than the whole disk: only reclaiming shipped space keeps it going.
    const w = await workers.start({ INGEST_DISK_RESERVE_BYTES: '262144' }, { dataDir: disk.dir });
    const traffic = await startTraffic({ serials, ratePerSerial: 10 });
    await sleep(15_000); // ~1.5 MB of journal through a 1 MiB disk
    expect(w.proc.child.exitCode).toBeNull();

    const filler = await fillDisk(disk.dir); // something else takes the disk
    const held = await waitFor(
      'acknowledgements held under the reserve',
      () => health(w.proc.port),
      (h) => h.acksHeld === true,
      30_000,
      200,
    );
    expect(held.code).toBe(503);
    expect(String(held.holdReason)).toMatch(/under the reserve|ENOSPC/);
    rmSync(filler);
    await waitFor(
      'acknowledgements resumed',
      () => health(w.proc.port),
      (h) => h.acksHeld === false && h.code === 200,
      60_000,
      250,
    );
    await sleep(2000);
    await traffic.stop();
    const report = await awaitStored(influx, 'DISKB', traffic, 90_000);
    console.log('small disk, reserve:', traffic.sentTotal(), 'sent', JSON.stringify(report));
    expect(report.published).toBe(traffic.sentTotal());
    expect(report).toMatchObject({ lost: 0, missing: {} });
  });
});
