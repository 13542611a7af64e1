import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  // After every child has loaded (3 s was too short on a busy machine: a late child took over the
  // stale locks of siblings that had finished).
  const startAt = Date.now() + 8000;
  const code = `
    import { acquireProcessLock } from ${JSON.stringify(module)};
    const paths = ${JSON.stringify(paths)};
    const won = [];
    for (let round = 0; round < paths.length; round++) {
      while (Date.now() < ${startAt} + round * 20);
      try { acquireProcessLock(paths[round]); won.push(1); } catch (e) { if (e.name !== 'LockHeldError') throw e; won.push(0); }
    }
    process.stdout.write(JSON.stringify(won));`;
  const results = await Promise.all(
    Array.from({ length: processes }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code]);
      let out = '';
      child.stdout.on('data', (chunk) => {
        out += chunk;
      });
      child.stderr.pipe(process.stderr);
      return new Promise<number[]>((resolve) => child.on('exit', () => resolve(JSON.parse(out) as number[])));
    }),
  );
  return paths.map((_, round) => results.reduce((sum, won) => sum + (won[round] ?? 0), 0));
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
