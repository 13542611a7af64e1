// Drill: the disk under ingest's journal fills up (a 1 MiB tmpfs mounted by the test), with
// InfluxDB away and with it up. Ingest must hold its acknowledgements and say why, never exit,
// start again on the full disk after kill -9, give back the space of what it shipped, and lose
// nothing.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fillDisk, ingestDrill, service, sleep, smallFilesystem, underLiveTraffic } from '../../../testing/drills';
import { ingestHealth, ingestMetric, registerFleet, waitFor } from '../../../testing/services';

const drill = ingestDrill('test_drill_disk', ['influxdb']);
const { workers } = drill;
const disks: { release(): Promise<void> }[] = [];
const journalFiles = (dataDir: string, worker: string) => readdirSync(join(dataDir, `worker-${worker}`, 'journal'));

beforeAll(drill.setUp);
afterEach(async () => {
  await drill.tearDown();
  for (const disk of disks.splice(0)) await disk.release();
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
    const label = 'full disk, InfluxDB away, kill -9';
    await underLiveTraffic(drill.influx, label, { serials, ratePerSerial: 10 }, async () => {
      let second: typeof first | undefined;
      try {
        await service('stop', 'influxdb');
        const held = await waitFor(
          'acknowledgements held for the full disk',
          () => ingestHealth(first.proc.port),
          (h) => h.acksHeld === true && /ENOSPC/.test(String(h.holdReason)),
          90_000,
          200,
        );
        expect(held.httpStatus).toBe(503);
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
        () => ingestHealth(second!.proc.port),
        (h) => h.acksHeld === false && h.httpStatus === 200,
        90_000,
        250,
      );
      await sleep(2000); // traffic after the recovery
    });
  });

  it(
    'keeps a disk smaller than one segment from filling with shipped data, holds under the reserve, starts again ' +
      'there after kill -9, and resumes when space is back',
    async () => {
      const disk = await smallFilesystem('1m');
      disks.push(disk);
      const serials = await registerFleet('DISKB', 40);
      // The default 8 MiB segment is larger than the whole disk: only reclaiming shipped space keeps it going.
      const settings = { INGEST_DISK_RESERVE_BYTES: '262144' };
      let w = await workers.start(settings, { dataDir: disk.dir });
      await underLiveTraffic(drill.influx, 'small disk, reserve, kill -9', { serials, ratePerSerial: 10 }, async () => {
        await sleep(15_000); // ~1.5 MB of journal through a 1 MiB disk
        expect(w.proc.child.exitCode).toBeNull();

        const filler = await fillDisk(disk.dir); // something else takes the disk
        const heldUnderReserve = (h: Record<string, unknown>) =>
          h.acksHeld === true && h.httpStatus === 503 && /under the reserve|ENOSPC/.test(String(h.holdReason));
        await waitFor(
          'acknowledgements held under the reserve',
          () => ingestHealth(w.proc.port),
          heldUnderReserve,
          30_000,
          200,
        );

        // Killed while holding, and started again on the same short disk: up, and still holding.
        await workers.stop(w);
        w = await workers.start(settings, w);
        await waitFor('held again after the restart', () => ingestHealth(w.proc.port), heldUnderReserve, 30_000, 200);

        rmSync(filler);
        await waitFor(
          'acknowledgements resumed',
          () => ingestHealth(w.proc.port),
          (h) => h.acksHeld === false && h.httpStatus === 200,
          60_000,
          250,
        );
        await sleep(2000);
      });
    },
  );
});
