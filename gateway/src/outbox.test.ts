// The outbox on a real disk: appended readings survive a restart and leave only when acknowledged,
// a torn or damaged record never corrupts the rest, the budget drops the oldest and counts them,
// and a writer killed with -9 in the middle of writes loses nothing it had finished.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Outbox, type OutboxEntry } from './outbox';

const dirs: string[] = [];
const fresh = () => {
  const dir = mkdtempSync(join(tmpdir(), 'outbox-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const entry = (seq: number, serial = 'INV-1'): OutboxEntry => ({
  serial,
  reading: {
    ts: 1_780_000_000_000 + seq * 60_000,
    energy_wh_total: 1_000_000 + seq,
    ac_power_w: 2500,
    state: 'MPPT',
    dc_voltage_v: 380.5,
    dc_current_a: 6.6,
    ac_voltage_v: 230.1,
    ac_frequency_hz: 50,
    temperature_c: 35.5,
  },
});
const seqs = (entries: OutboxEntry[]) => entries.map((e) => (e.reading.energy_wh_total as number) - 1_000_000);

describe('outbox', () => {
  it('keeps readings across a restart, hands them out oldest first, removes them only when acknowledged', () => {
    const dir = fresh();
    const options = { dir, maxBytes: 1 << 20, segmentBytes: 4096 };
    let outbox = Outbox.open(options);
    for (let i = 1; i <= 100; i++) outbox.append([entry(i)]);
    expect(outbox.stats().segments).toBeGreaterThan(3);
    const first = outbox.peek(30)!;
    expect(seqs(first.entries)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    outbox.close();
    outbox = Outbox.open(options); // not acknowledged: all still there
    expect(outbox.stats().pendingReadings).toBe(100);
    const again = outbox.peek(30)!;
    expect(seqs(again.entries)).toEqual(seqs(first.entries));
    outbox.ack(again.to, again.entries.length);
    outbox.close();
    outbox = Outbox.open(options);
    expect(outbox.stats().pendingReadings).toBe(70);
    const rest = outbox.peek(1000)!;
    expect(seqs(rest.entries)).toEqual(Array.from({ length: 70 }, (_, i) => i + 31));
    outbox.ack(rest.to, rest.entries.length);
    expect(outbox.peek(10)).toBeNull();
    expect(outbox.stats().segments).toBe(1);
    outbox.close();
  });

  it('hands out what follows a stretch sent but not yet confirmed, and keeps that stretch until it is', () => {
    const outbox = Outbox.open({ dir: fresh(), maxBytes: 1 << 20, segmentBytes: 4096 });
    for (let i = 1; i <= 50; i++) outbox.append([entry(i)]);
    const sent = outbox.peek(20)!;
    const next = outbox.peek(20, sent.to)!;
    expect(seqs(next.entries)).toEqual(Array.from({ length: 20 }, (_, i) => i + 21));
    expect(outbox.stats().pendingReadings).toBe(50); // nothing confirmed yet
    outbox.ack(sent.to, sent.entries.length);
    expect(seqs(outbox.peek(5)!.entries)).toEqual([21, 22, 23, 24, 25]); // sent again from here after a reconnect
    outbox.close();
  });

  it('cuts a torn tail and skips a damaged record, counting it, without losing the others', () => {
    const dir = fresh();
    const options = { dir, maxBytes: 1 << 20, segmentBytes: 1 << 16 };
    const outbox = Outbox.open(options);
    for (let i = 1; i <= 5; i++) outbox.append([entry(i)]);
    outbox.close();
    const [segment] = readdirSync(dir).filter((f) => f.endsWith('.seg'));
    const path = join(dir, segment!);
    const data = readFileSync(path);
    // Flip a byte inside the third record's JSON (bit rot), then leave half a record at the end.
    const third = data.indexOf('"energy_wh_total":1000003');
    data[third + 5] = data[third + 5]! ^ 0x20;
    writeFileSync(path, data);
    appendFileSync(path, Buffer.from([0, 0, 1, 0, 9, 9, 9, 9, 123, 34]));
    const warnings: string[] = [];
    const reopened = Outbox.open({ ...options, onWarning: (w) => warnings.push(w) });
    expect(warnings.join()).toMatch(/cut 10 bytes of an incomplete record/);
    expect(reopened.stats().corruptRecords).toBe(1);
    expect(seqs(reopened.peek(100)!.entries)).toEqual([1, 2, 4, 5]);
    reopened.append([entry(6)]);
    expect(seqs(reopened.peek(100)!.entries)).toEqual([1, 2, 4, 5, 6]);
    reopened.close();
  });

  it('stays within its budget: the oldest readings are dropped only when full, and counted', () => {
    const dir = fresh();
    const warnings: string[] = [];
    const options = { dir, maxBytes: 16_384, segmentBytes: 4096, onWarning: (w: string) => warnings.push(w) };
    const outbox = Outbox.open(options);
    for (let i = 1; i <= 300; i++) outbox.append([entry(i)]);
    const stats = outbox.stats();
    expect(stats.bytes).toBeLessThanOrEqual(16_384);
    expect(stats.droppedReadings).toBeGreaterThan(0);
    expect(stats.droppedReadings + stats.pendingReadings).toBe(300);
    const kept = seqs(outbox.peek(1000)!.entries);
    expect(kept.at(-1)).toBe(300);
    expect(kept[0]).toBe(stats.droppedReadings + 1); // the oldest went first, the rest in order
    expect(warnings.at(-1)).toMatch(/outbox full \(16384 bytes\): dropped the oldest \d+ unsent readings/);
    outbox.close();
    expect(Outbox.open(options).stats().droppedReadings).toBe(stats.droppedReadings);
  });

  it('the budget: 30 days of one inverter at one reading a minute fit the 64 MiB default many times over', () => {
    const dir = fresh();
    const outbox = Outbox.open({ dir, maxBytes: 64 << 20, segmentBytes: 1 << 20 });
    // Six hours of one inverter polled every minute, one record per poll (as the gateway writes).
    for (let i = 1; i <= 360; i++) outbox.append([entry(i)]);
    const { bytes, droppedReadings } = outbox.stats();
    expect(droppedReadings).toBe(0);
    // ~250 bytes a reading: 30 days of one inverter ≈ 11 MB, so 64 MiB holds 30 days of 5 inverters.
    const perReading = bytes / 360;
    expect(perReading).toBeLessThan(260);
    expect(30 * 1440 * perReading * 5).toBeLessThan(64 << 20);
    outbox.close();
  }, 60_000);

  for (const round of [1, 2])
    it(`a writer killed with -9 mid-write loses nothing it had finished (round ${round})`, async () => {
      const dir = fresh();
      // node itself (not npx) so that -9 hits the writer, not a wrapper.
      const writer = join(import.meta.dirname, '../test/outbox-writer.ts');
      const child = spawn(process.execPath, ['--import', 'tsx', writer, dir, String(1 << 22), '8192'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let confirmed = 0;
      let buffer = '';
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (chunk: Buffer) => {
          buffer += chunk.toString();
          const lines = buffer.split('\n');
          buffer = lines.pop()!;
          if (lines.length > 0) confirmed = Number(lines.at(-1));
          if (confirmed >= 300 * round) resolve();
        });
      });
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      const outbox = Outbox.open({ dir, maxBytes: 1 << 22, segmentBytes: 8192 });
      const entries = outbox.peek(1_000_000)!.entries;
      const got = entries.map((e) => e.reading.seq);
      // Every confirmed reading is there, in order, once, and so is any the writer finished after
      // the last line that reached us; nothing torn, nothing out of order.
      expect(got.length).toBeGreaterThanOrEqual(confirmed);
      expect(got).toEqual(Array.from({ length: got.length }, (_, i) => i + 1));
      expect(outbox.stats().corruptRecords).toBe(0);
      outbox.close();
    }, 60_000);
});
