import { mkdirSync, mkdtempSync, readdirSync, appendFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from './journal';

const dirs: string[] = [];
const freshDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'journal-test-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const open = (dir: string, segmentBytes = 1 << 20) => new Journal({ dir, segmentBytes, fsyncIntervalMs: 1000 });
const record = (i: number) => Buffer.from(`m v=${i} ${i}\n`);

function drainAll(journal: Journal, maxBytes = 64): string[] {
  const lines: string[] = [];
  for (let batch = journal.nextBatch(maxBytes); batch; batch = journal.nextBatch(maxBytes)) {
    lines.push(...batch.data.toString().trimEnd().split('\n'));
    journal.confirm(batch);
  }
  return lines;
}

describe('Journal', () => {
  it('frees the space of shipped data at once when asked, without waiting for the segment to fill', () => {
    const dir = freshDir();
    const journal = open(dir, 1 << 20);
    for (let i = 0; i < 100; i++) journal.append(record(i));
    expect(journal.reclaim()).toBe(0); // nothing is stored yet: nothing may go
    const segmentBytes = () =>
      readdirSync(dir)
        .filter((f) => f.endsWith('.lp'))
        .reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
    expect(drainAll(journal, 1 << 20)).toHaveLength(100);
    expect(segmentBytes()).toBeGreaterThan(900); // shipped, but kept until the segment is full
    expect(journal.reclaim()).toBeGreaterThan(900);
    expect(segmentBytes()).toBe(0);
    journal.append(record(100));
    journal.append(record(101));
    journal.confirm(journal.nextBatch(12)!); // ships 100 only
    expect(journal.reclaim()).toBeGreaterThan(0); // closes the segment: deleted once 101 is stored
    journal.append(record(102));
    journal.close();
    expect(drainAll(open(dir))).toEqual(['m v=101 101', 'm v=102 102']); // after a restart: only what was not shipped
  });

  it('keeps running when the checkpoint cannot be written (a full disk), and saves it once it can', () => {
    const dir = freshDir();
    const journal = open(dir, 100);
    for (let i = 0; i < 30; i++) journal.append(record(i));
    mkdirSync(join(dir, 'checkpoint.json.tmp')); // writing the checkpoint now fails, as on ENOSPC
    expect(drainAll(journal)).toHaveLength(30);
    expect(journal.saveCheckpoint()).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.lp')).length).toBeLessThanOrEqual(2); // shipped space freed anyway
    rmSync(join(dir, 'checkpoint.json.tmp'), { recursive: true });
    expect(journal.saveCheckpoint()).toBe(true);
    journal.close();
    expect(drainAll(open(dir))).toEqual([]);
  });

  it('hands out whole lines in order, across segments, and forgets confirmed segments', () => {
    const dir = freshDir();
    const journal = open(dir, 100);
    for (let i = 0; i < 50; i++) journal.append(record(i));
    expect(readdirSync(dir).filter((f) => f.endsWith('.lp')).length).toBeGreaterThanOrEqual(4);
    expect(drainAll(journal)).toEqual(Array.from({ length: 50 }, (_, i) => `m v=${i} ${i}`));
    expect(journal.backlogBytes).toBe(0);
    expect(readdirSync(dir).filter((f) => f.endsWith('.lp')).length).toBeLessThanOrEqual(2);
    journal.close();
  });

  it('advances the checkpoint only over contiguous confirmed batches', () => {
    const dir = freshDir();
    const journal = open(dir);
    for (let i = 0; i < 10; i++) journal.append(record(i));
    journal.nextBatch(30);
    const second = journal.nextBatch(30)!;
    journal.confirm(second); // out of order: nothing may be forgotten yet
    journal.close();

    const reopened = open(dir);
    expect(drainAll(reopened)).toEqual(Array.from({ length: 10 }, (_, i) => `m v=${i} ${i}`));
    reopened.close();
  });

  it('after a crash, replays everything not confirmed, and only that', () => {
    const dir = freshDir();
    const journal = open(dir);
    for (let i = 0; i < 20; i++) journal.append(record(i));
    const batch = journal.nextBatch(60)!;
    journal.confirm(batch);
    const shipped = batch.data.toString().trimEnd().split('\n').length;
    // no close(): the process dies; its lock names a dead PID
    const reopened = open(dir);
    expect(reopened.backlogBytes).toBeGreaterThan(0);
    expect(drainAll(reopened)).toEqual(
      Array.from({ length: 20 - shipped }, (_, i) => `m v=${i + shipped} ${i + shipped}`),
    );
    reopened.close();
  });

  it('skips a torn tail left by a crash in the middle of a write', () => {
    const dir = freshDir();
    const journal = open(dir);
    journal.append(record(1));
    journal.close();
    const segment = readdirSync(dir).find((f) => f.endsWith('.lp'))!;
    appendFileSync(join(dir, segment), 'm v=2 2'); // no newline: never acknowledged
    const warnings: string[] = [];
    const reopened = new Journal({
      dir,
      segmentBytes: 1 << 20,
      fsyncIntervalMs: 1000,
      onWarning: (w) => warnings.push(w),
    });
    reopened.append(record(3));
    expect(drainAll(reopened)).toEqual(['m v=1 1', 'm v=3 3']);
    expect(warnings.join()).toMatch(/torn tail/);
    reopened.close();
  });

  it('refuses a journal held by a live process', () => {
    const dir = freshDir();
    const journal = open(dir);
    appendFileSync(join(dir, 'LOCK'), ''); // keep LOCK; pretend another live process (PID 1) holds it
    rmSync(join(dir, 'LOCK'));
    appendFileSync(join(dir, 'LOCK'), '1');
    expect(() => open(dir)).toThrow(/in use by process 1/);
    journal.close();
  });

  it('reports lag as the age of the oldest unconfirmed data', async () => {
    const journal = open(freshDir());
    expect(journal.lagMs(Date.now())).toBe(0);
    journal.append(record(1));
    await new Promise((r) => setTimeout(r, 30));
    expect(journal.lagMs(Date.now())).toBeGreaterThanOrEqual(25);
    drainAll(journal);
    expect(journal.lagMs(Date.now())).toBe(0);
    journal.close();
  });
});
