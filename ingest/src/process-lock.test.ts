import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireProcessLock, holderOf, LockHeldError } from './process-lock';

const dirs: string[] = [];
const lockPath = () => {
  const dir = mkdtempSync(join(tmpdir(), 'process-lock-'));
  dirs.push(dir);
  return join(dir, 'LOCK');
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The PID of a process that has exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid as number;

/**
 * Processes that try to take each lock at the same instant (one round per path, all starting on
 * the same millisecond), holding what they take; per round, how many won.
 */
async function winnersPerRound(paths: string[], processes: number): Promise<number[]> {
  const module = new URL('./process-lock.ts', import.meta.url).pathname;
  // Each child says when it has loaded and is given the instant of the first round once all have;
  // it holds what it took until every child has answered, so no lock it won turns stale (its PID
  // gone) while a sibling is still at that round.
  const code = `
    import { acquireProcessLock } from ${JSON.stringify(module)};
    const paths = ${JSON.stringify(paths)};
    process.stdout.write('ready\\n');
    process.stdin.once('data', (line) => {
      const startAt = Number(String(line));
      const won = [];
      for (let round = 0; round < paths.length; round++) {
        while (Date.now() < startAt + round * 20);
        try { acquireProcessLock(paths[round]); won.push(1); } catch (e) { if (e.name !== 'LockHeldError') throw e; won.push(0); }
      }
      process.stdout.write(JSON.stringify(won) + '\\n');
    });`;
  const children = Array.from({ length: processes }, () => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code]);
    child.stderr.pipe(process.stderr);
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    /** The child's next line, or undefined if it exited without one. */
    const line = async () => (await lines.next()).value as string | undefined;
    return { child, line, exited: new Promise((resolve) => child.on('exit', resolve)) };
  });
  expect(await Promise.all(children.map(({ line }) => line()))).toEqual(Array(processes).fill('ready'));
  const startAt = Date.now() + 500;
  for (const { child } of children) child.stdin.write(`${startAt}\n`);
  const results = await Promise.all(children.map(({ line }) => line()));
  for (const { child } of children) child.stdin.end();
  await Promise.all(children.map(({ exited }) => exited));
  const won = results.map((result) => JSON.parse(result ?? '[]') as number[]);
  return paths.map((_, round) => won.reduce((sum, each) => sum + (each[round] ?? 0), 0));
}

describe('process lock', () => {
  it('holds the owner PID and is removed on release', () => {
    const path = lockPath();
    const lock = acquireProcessLock(path);
    expect(holderOf(path)).toBe(process.pid);
    lock.release();
    expect(existsSync(path)).toBe(false);
  });

  it('refuses a lock held by a running process, naming it', () => {
    const path = lockPath();
    const holder = spawn('sleep', ['30']);
    try {
      writeFileSync(path, String(holder.pid));
      expect(() => acquireProcessLock(path)).toThrow(LockHeldError);
      expect(() => acquireProcessLock(path)).toThrow(`held by running process ${holder.pid}`);
      expect(holderOf(path)).toBe(holder.pid);
    } finally {
      holder.kill();
    }
  });

  it('takes over a lock left by a dead process, or an empty or garbled one', () => {
    for (const content of [String(deadPid()), '', 'not a pid']) {
      const path = lockPath();
      writeFileSync(path, content);
      acquireProcessLock(path);
      expect(holderOf(path)).toBe(process.pid);
    }
  });

  it("removes the empty drafts older versions left on a full disk, except a live process's", () => {
    const path = lockPath();
    const dead = deadPid();
    writeFileSync(`${path}.${dead}.tmp`, '');
    writeFileSync(`${path}.${process.pid}.tmp`, ''); // a live process's draft is left alone
    const lock = acquireProcessLock(path);
    expect(readdirSync(join(path, '..')).sort()).toEqual(['LOCK', `LOCK.${process.pid}.tmp`]);
    lock.release();
  });

  it('lets exactly one of several processes starting together take it, fresh or stale', async () => {
    const rounds = 60;
    const fresh = Array.from({ length: rounds }, lockPath);
    const stale = Array.from({ length: rounds }, lockPath);
    const dead = String(deadPid());
    for (const path of stale) writeFileSync(path, dead);
    expect(await winnersPerRound([...fresh, ...stale], 3)).toEqual(Array(2 * rounds).fill(1));
  });
});
