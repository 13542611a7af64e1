// Runs long-lived processes in the foreground, as `npm start` does (ops/start.ts). Each child logs
// to its own file and runs in its own session, so a terminal's Ctrl-C (or its closing) reaches only
// the supervisor, which stops every child by PID: SIGTERM, SIGKILL after a grace period or at a
// second Ctrl-C (a second or more after the first); then exit code 0. A child that exits on its own
// is reported at once, with its exit status and the end of its log, and the others are stopped: the
// platform runs whole or not at all (exit code 1), never with a piece silently missing.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';

// ops/env.sh's step, info and fail, so the bash scripts and the supervisor print alike.
export const step = (text: string) => process.stdout.write(`\x1b[1m==> ${text}\x1b[0m\n`);
export const info = (text: string) => process.stdout.write(`    ${text}\n`);
const errorLine = (text: string) => process.stderr.write(`\x1b[31merror:\x1b[0m ${text}\n`);

/** A step that failed: the supervisor says so, stops its children and exits 1. */
export class StartFailed extends Error {
  override name = 'StartFailed';
}

export interface SupervisorOptions {
  /** Where each child's `<name>.log` goes. */
  logDir: string;
  /** The step printed when stopping (after Ctrl-C or a failure). */
  stopping: string;
  /** How long a child may take to stop after SIGTERM before it gets SIGKILL (default 30 s). */
  graceMs?: number;
  /** Run once every child has stopped, before exiting. */
  cleanup?: () => void;
}

interface Child {
  name: string;
  process: ChildProcess;
  log: string;
  exited: Promise<void>;
}

const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;
const never = () => new Promise<never>(() => {});

export class Supervisor {
  private readonly children: Child[] = [];
  private readonly foreground = new Set<ChildProcess>();
  private readonly timers: NodeJS.Timeout[] = [];
  private shutdown: Promise<never> | undefined;
  private signalledAt = 0;

  constructor(private readonly options: SupervisorOptions) {
    mkdirSync(options.logDir, { recursive: true });
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => this.onSignal());
    // Whatever ends this process (an unexpected error included), no child outlives it unasked.
    process.on('exit', () => {
      for (const child of this.children) if (running(child.process)) child.process.kill('SIGTERM');
    });
  }

  /** Starts a platform process, its output appended to `<logDir>/<name>.log`: its exit stops the platform. */
  start(name: string, command: readonly string[]): void {
    const child = this.spawnLogged(name, command);
    if (!child) return;
    info(`${name}: pid ${child.process.pid}, log ${child.log}`);
    child.process.on('exit', (code, signal) => {
      if (this.shutdown) return;
      const status = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      void this.fail(`${name} (pid ${child.process.pid}) ${status}; its log: ${child.log}${tail(child.log)}`);
    });
  }

  /** Starts a one-off background job quietly (output to `<logDir>/<name>.log`): its ending is not a failure. */
  helper(name: string, command: readonly string[]): void {
    this.spawnLogged(name, command);
  }

  /** Runs `command` every `ms` while the platform runs (its output discarded, its errors on the terminal). */
  every(ms: number, command: readonly string[]): void {
    const [file, ...args] = command as [string, ...string[]];
    const once = () =>
      spawn(file, args, { stdio: ['ignore', 'ignore', 'inherit'] }).on('error', (e) =>
        errorLine(`${file}: ${e.message}`),
      );
    this.timers.push(setInterval(once, ms));
  }

  /**
   * Runs a step in the foreground, where it gets the terminal's Ctrl-C; `indent` prints its output
   * four spaces in. Throws StartFailed(`failure`) if it fails; never returns once stopping.
   */
  async run(command: readonly string[], failure: string, options: { indent?: boolean } = {}): Promise<void> {
    if (this.shutdown) return never();
    const [file, ...args] = command as [string, ...string[]];
    const child = spawn(file, args, { stdio: ['inherit', options.indent ? 'pipe' : 'inherit', 'inherit'] });
    this.foreground.add(child);
    if (child.stdout) {
      let pending = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        const lines = (pending + chunk).split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) info(line);
      });
      child.stdout.on('end', () => pending && info(pending));
    }
    const ok = await new Promise<boolean>((resolve) => {
      child.on('error', () => resolve(false));
      child.on('close', (code) => resolve(code === 0));
    });
    this.foreground.delete(child);
    if (this.shutdown) return never();
    if (!ok) throw new StartFailed(failure);
  }

  /** Reports `message` as an error, stops every child and exits 1 (only stops, once already stopping). */
  fail(message: string): Promise<never> {
    if (!this.shutdown) errorLine(message);
    return this.stop(1);
  }

  /** Stops every child by PID, then exits with `code`; later calls wait for the first one's exit. */
  stop(code: number): Promise<never> {
    this.shutdown ??= (async () => {
      step(this.options.stopping);
      for (const timer of this.timers) clearInterval(timer);
      for (const child of this.foreground) child.kill('SIGTERM');
      const stopping = this.children.filter((c) => running(c.process));
      for (const child of stopping) child.process.kill('SIGTERM');
      const graceMs = this.options.graceMs ?? 30_000;
      const grace = setTimeout(() => {
        for (const child of stopping)
          if (running(child.process)) {
            info(`${child.name} (pid ${child.process.pid}) did not stop within ${graceMs / 1000} s: killed`);
            child.process.kill('SIGKILL');
          }
      }, graceMs);
      await Promise.all(stopping.map((c) => c.exited));
      clearTimeout(grace);
      this.options.cleanup?.();
      process.exit(code);
    })();
    return this.shutdown;
  }

  private onSignal(): void {
    if (!this.shutdown) {
      this.signalledAt = Date.now();
      void this.stop(0);
      return;
    }
    // A second Ctrl-C: no more waiting. Not the same one again: npm forwards the terminal's Ctrl-C
    // to its script, which the terminal signalled already.
    if (Date.now() - this.signalledAt < 1000) return;
    for (const child of this.children) if (running(child.process)) child.process.kill('SIGKILL');
    process.exit(130);
  }

  private spawnLogged(name: string, command: readonly string[]): Child | undefined {
    if (this.shutdown) return undefined;
    const log = join(this.options.logDir, `${name}.log`);
    const fd = openSync(log, 'a');
    const [file, ...args] = command as [string, ...string[]];
    const proc = spawn(file, args, { stdio: ['ignore', fd, fd], detached: true });
    closeSync(fd);
    const exited = new Promise<void>((resolve) => {
      proc.on('close', () => resolve());
      proc.on('error', (error) => {
        resolve();
        void this.fail(`${name} could not start: ${error.message}`);
      });
    });
    const child: Child = { name, process: proc, log, exited };
    this.children.push(child);
    return child;
  }
}

/** The last lines of a log (of its last 4 KiB), indented after ", ending:"; empty when it has none. */
function tail(file: string, count = 10): string {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const buffer = Buffer.alloc(Math.min(size, 4096));
    readSync(fd, buffer, 0, buffer.length, size - buffer.length);
    const lines = buffer.toString('utf8').trimEnd().split('\n');
    if (buffer.length < size) lines.shift(); // begins mid-line
    const last = lines.slice(-count).filter((line) => line !== '');
    return last.length ? `, ending:\n${last.map((line) => `    ${line}`).join('\n')}` : '';
  } finally {
    closeSync(fd);
  }
}
