// One process per directory: a lock holding the owner's PID, created atomically and already holding
// it, so two workers started at once with the same INGEST_WORKER_ID cannot both believe they own the
// journal. The lock is a symbolic link whose target is the PID: symlink(2) fails if the lock exists,
// and a target this short lives in the inode, so taking the lock needs no free space — a worker
// restarted on a full disk can take it and then free space by shipping and deleting its journal.
// (Earlier versions wrote `LOCK.<pid>.tmp` and hard-linked it: that failed with ENOSPC and left an
// empty draft per attempt; such drafts are removed, and a lock file of that format is still read.)
// A lock left by a process that has died is replaced under a short second lock (`.takeover`), so
// two processes finding the same stale lock cannot both remove it and each create their own.
import { readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface ProcessLock {
  release(): void;
}

export class LockHeldError extends Error {
  constructor(
    readonly path: string,
    readonly pid: number,
  ) {
    super(`${path} is held by running process ${pid}`);
    this.name = 'LockHeldError';
  }
}

const code = (error: unknown) => (error as NodeJS.ErrnoException).code;

/** The PID a lock holds (its link target, or an older version's file content); 0 when empty or not a number; null when gone. */
export function holderOf(path: string): number | null {
  try {
    let text: string;
    try {
      text = readlinkSync(path);
    } catch (error) {
      if (code(error) !== 'EINVAL') throw error;
      text = readFileSync(path, 'utf8'); // a regular file: the format before the symbolic link
    }
    const pid = Number(text.trim());
    return Number.isInteger(pid) && pid > 0 ? pid : 0;
  } catch (error) {
    if (code(error) === 'ENOENT') return null;
    throw error;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return code(error) === 'EPERM'; // alive, owned by another user
  }
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Creates `path` holding this process's PID in one step, using no data block; false when it already exists. */
function createHoldingPid(path: string): boolean {
  try {
    symlinkSync(String(process.pid), path);
    return true;
  } catch (error) {
    if (code(error) === 'EEXIST') return false;
    throw error;
  }
}

/** Drafts `LOCK.<pid>.tmp` left by earlier versions (one per failed attempt on a full disk), of processes now gone. */
function removeOldDrafts(path: string): void {
  const draft = new RegExp(`^${basename(path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)\\.tmp$`);
  for (const name of readdirSync(dirname(path))) {
    const pid = draft.exec(name)?.[1];
    if (pid && !isAlive(Number(pid))) rmSync(join(dirname(path), name), { force: true });
  }
}

/** Takes the lock at `path`, or throws LockHeldError naming the live process that holds it. */
export function acquireProcessLock(path: string, patienceMs = 5000): ProcessLock {
  const release = () => {
    if (holderOf(path) === process.pid) unlinkSync(path);
  };
  removeOldDrafts(path);
  const takeover = `${path}.takeover`;
  const deadline = Date.now() + patienceMs;
  for (;;) {
    if (createHoldingPid(path)) return { release };
    const holder = holderOf(path);
    if (holder === null) continue; // released meanwhile
    // Our own PID: a lock this process left behind (e.g. a journal reopened without close).
    if (holder === process.pid) return { release };
    if (holder > 0 && isAlive(holder)) throw new LockHeldError(path, holder);
    if (createHoldingPid(takeover)) {
      try {
        // Still the stale lock we read, not one a faster contender has created since?
        if (holderOf(path) === holder) unlinkSync(path);
      } finally {
        unlinkSync(takeover);
      }
      continue;
    }
    const taker = holderOf(takeover);
    if (taker !== null && !(taker > 0 && isAlive(taker)))
      rmSync(takeover, { force: true }); // died mid-takeover
    else if (Date.now() > deadline)
      throw new Error(`${path}: another process has been taking over a stale lock for too long`);
    else sleep(1);
  }
}
