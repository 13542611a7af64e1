// One process per directory: a lock file holding the owner's PID, created atomically and already
// holding it (written aside, then hard-linked into place, which fails if the lock exists), so two
// workers started at once with the same INGEST_WORKER_ID cannot both believe they own the journal.
// A lock left by a process that has died is replaced under a short second lock (`.takeover`), so
// two processes finding the same stale lock cannot both remove it and each create their own.
import { linkSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';

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

/** The PID in a lock file; 0 when it is empty or not a number; null when the file is gone. */
function holderOf(path: string): number | null {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
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

/** Creates `path` holding this process's PID in one step; false when it already exists. */
function createHoldingPid(path: string): boolean {
  const draft = `${path}.${process.pid}.tmp`;
  writeFileSync(draft, String(process.pid));
  try {
    linkSync(draft, path);
    return true;
  } catch (error) {
    if (code(error) === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(draft);
  }
}

/** Takes the lock at `path`, or throws LockHeldError naming the live process that holds it. */
export function acquireProcessLock(path: string, patienceMs = 5000): ProcessLock {
  const release = () => {
    if (holderOf(path) === process.pid) unlinkSync(path);
  };
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
