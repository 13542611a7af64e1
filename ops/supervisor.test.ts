// npm start's supervisor (ops/supervisor.ts) run for real over small Node children: a child that
// crashes is named with its exit code and the end of its log, and the others are stopped by PID
// (exit code 1); Ctrl-C stops every child, one that ignores SIGTERM with SIGKILL after the grace
// period, then cleans up (exit code 0).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'supervisor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const child = (code: string) => `[process.execPath, '-e', ${JSON.stringify(code)}]`;
const READY = "console.log('ready'); setInterval(() => {}, 1000);";
const STEADY = `process.on('SIGTERM', () => { console.log('stopped'); process.exit(0); }); ${READY}`;
const CRASHING = "console.log('about to fail'); setTimeout(() => process.exit(3), 1000);";
const STUBBORN = `process.on('SIGTERM', () => {}); ${READY}`;
// Each run logs to its own folder, named after its mode.
writeFileSync(
  join(dir, 'driver.ts'),
  `import { join } from 'node:path';
import { Supervisor } from ${JSON.stringify(resolve('ops/supervisor.ts'))};
const mode = process.argv[2];
const supervisor = new Supervisor({
  logDir: join(${JSON.stringify(dir)}, mode), stopping: 'Stopping the children', graceMs: 1000,
  cleanup: () => console.log('cleaned up'),
});
supervisor.start('steady', ${child(STEADY)});
if (mode === 'crash') supervisor.start('crashing', ${child(CRASHING)});
if (mode === 'stubborn') supervisor.start('stubborn', ${child(STUBBORN)});
`,
);

interface Run {
  process: ChildProcess;
  stdout: string;
  stderr: string;
  exit: Promise<number | null>;
}
function runDriver(mode: string): Run {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(dir, 'driver.ts'), mode], { stdio: 'pipe' });
  const run: Run = { process: proc, stdout: '', stderr: '', exit: new Promise((done) => proc.on('close', done)) };
  proc.stdout.on('data', (chunk) => (run.stdout += chunk));
  proc.stderr.on('data', (chunk) => (run.stderr += chunk));
  return run;
}
const pidOf = (run: Run, name: string) => Number(new RegExp(`${name}: pid (\\d+), log `).exec(run.stdout)?.[1]);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const log = (mode: string, name: string) => {
  const file = join(dir, mode, `${name}.log`);
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
};
async function until(ready: () => boolean): Promise<boolean> {
  for (let i = 0; i < 300 && !ready(); i++) await new Promise((r) => setTimeout(r, 50));
  return ready();
}

// The two runs wait on their children's timers (a crash after 1 s, a grace period of 1 s): side by side.
describe.concurrent("npm start's supervisor", () => {
  it('names a child that crashed, with its exit code and log, and stops the others by PID', async ({ expect }) => {
    const run = runDriver('crash');
    expect(await run.exit).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        `error:.* crashing \\(pid ${pidOf(run, 'crashing')}\\) exited with code 3; ` +
          'its log: .*crash/crashing\\.log, ending:\n {4}about to fail',
      ),
    );
    expect(run.stdout).toContain('Stopping the children');
    expect(run.stdout).toContain('cleaned up');
    expect(alive(pidOf(run, 'steady'))).toBe(false);
  });

  it('stops every child at Ctrl-C, killing one that ignores SIGTERM after the grace period, and exits 0', async ({
    expect,
  }) => {
    const run = runDriver('stubborn');
    expect(
      await until(() => /ready/.test(log('stubborn', 'steady')) && /ready/.test(log('stubborn', 'stubborn'))),
    ).toBe(true);
    run.process.kill('SIGINT');
    expect(await run.exit).toBe(0);
    const stubborn = pidOf(run, 'stubborn');
    expect(run.stdout).toContain(`stubborn (pid ${stubborn}) did not stop within 1 s: killed`);
    expect(run.stdout).toContain('cleaned up');
    expect(log('stubborn', 'steady')).toContain('stopped');
    expect([alive(pidOf(run, 'steady')), alive(stubborn)]).toEqual([false, false]);
    expect(run.stderr).toBe('');
  });
});
