// The platform's command lines, run for real: `--help` on the program and on each command
// answers (exit 0) without running it or needing any service, and a wrong command line gets one
// `error:` line and exit code 2.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Each program's help, and one command's: the help is answered by lib/cli.ts for every command alike
// (lib/cli.test.ts); `ops import` and `ops progress` are the two that once crashed or ran instead.
const CLIS: { invocation: string; entry: string[]; commands: string[] }[] = [
  { invocation: 'sim --', entry: ['simulators/src/cli.ts'], commands: ['fleet'] },
  { invocation: 'billing --', entry: ['billing/src/cli.ts'], commands: ['review'] },
  { invocation: 'ops --', entry: ['ops/cli.ts'], commands: ['import', 'progress'] },
  { invocation: 'ops -- settlements', entry: ['ops/cli.ts', 'settlements'], commands: ['reconcile'] },
  { invocation: 'alerts --', entry: ['alerts/src/cli.ts'], commands: ['evaluate'] },
  { invocation: 'gateway --', entry: ['gateway/src/main.ts'], commands: ['commission'] },
];

/** Every `npm run PROGRAM -- COMMAND` the operators' documents name (docs/, the READMEs). */
function documentedCommands(): { file: string; invocation: string; command: string }[] {
  const files = [
    ...readdirSync('docs')
      .filter((f) => f.endsWith('.md'))
      .map((f) => join('docs', f)),
    'README.md',
    ...readdirSync('.', { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.') && d.name !== 'node_modules')
      .flatMap((d) =>
        readdirSync(d.name, { recursive: true, encoding: 'utf8' })
          .filter((f) => f.endsWith('README.md') && !f.includes('node_modules'))
          .map((f) => join(d.name, f)),
      ),
  ];
  return files.flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/npm run (\w+) -- ([a-z][\w-]*)/g)].map(([, program, command]) => ({
      file,
      invocation: `${program} --`,
      command: command!,
    })),
  );
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
// No service addresses in the environment: anything that tried to connect would fail loudly.
const env = { PATH: process.env.PATH, HOME: process.env.HOME };
const cli = (entry: string | string[], args: string[], withServices = false) =>
  new Promise<Run>((resolve) =>
    execFile(
      process.execPath,
      ['--import', 'tsx', ...[entry].flat(), ...args],
      { env: withServices ? process.env : env, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    ),
  );

/** Runs `jobs` two at a time (the machine has two cores). */
async function inPairs<T>(jobs: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = [];
  for (let i = 0; i < jobs.length; i += 2) results.push(...(await Promise.all(jobs.slice(i, i + 2).map((j) => j()))));
  return results;
}

describe('the command lines', { timeout: 300_000 }, () => {
  it('answer --help on the program and on every command, without running anything', async () => {
    const usage = (invocation: string, rest: string) => new RegExp(`^Usage: npm run ${invocation} ${rest}`);
    const cases = CLIS.flatMap(({ invocation, entry, commands }) => [
      { name: invocation, entry, args: ['--help'], expect: usage(invocation, '<command>') },
      ...commands.map((c) => ({ name: invocation, entry, args: [c, '--help'], expect: usage(invocation, c) })),
    ]);
    const runs = await inPairs(cases.map((c) => () => cli(c.entry, c.args)));
    cases.forEach((c, i) => {
      const run = runs[i]!;
      expect({ args: `${c.name} ${c.args.join(' ')}`, code: run.code, stderr: run.stderr }).toEqual({
        args: `${c.name} ${c.args.join(' ')}`,
        code: 0,
        stderr: '',
      });
      expect(run.stdout).toMatch(c.expect);
    });
    // Every command a document tells an operator to run exists (docs/production.md once said
    // `npm run billing -- paid`, which is `mark-paid`): each program's help lists its commands.
    const listed = new Map(
      cases
        .map((c, i) => [c, runs[i]!] as const)
        .filter(([c]) => c.args.length === 1)
        .map(([c, run]) => [c.name, new Set([...run.stdout.matchAll(/^ {2}([a-z][\w-]*) {2}/gm)].map((m) => m[1]))]),
    );
    const missing = documentedCommands().filter(
      (d) => listed.has(d.invocation) && !listed.get(d.invocation)!.has(d.command),
    );
    expect(missing).toEqual([]);
    expect([...listed.keys()].sort()).toEqual(CLIS.map((c) => c.invocation).sort());
  });

  it('refuse a wrong command line with one error line and exit code 2', async () => {
    const cases: [string, string[], RegExp][] = [
      ['simulators/src/cli.ts', ['fleet', '--inverters'], /^error: Option '--inverters <value>' argument missing; /],
      ['billing/src/cli.ts', ['run', '1405-13'], /^error: .*1405-13.*; 'npm run billing -- run --help'/],
      ['billing/src/cli.ts', ['close'], /^error: MONTH is required; /],
      ['ops/cli.ts', ['import', 'beneficiaries', '--strict'], /^error: Unknown option '--strict'/],
      ['ops/cli.ts', ['launch'], /^error: unknown command 'launch'; 'npm run ops -- --help' lists the commands/],
      ['ops/cli.ts', ['settlements', 'import'], /^error: FILE is required; 'npm run ops -- settlements import --help'/],
      [
        'alerts/src/cli.ts',
        ['evaluate', '--at', 'soon'],
        /^error: --at must be an RFC 3339 date or timestamp, got 'soon'; /,
      ],
    ];
    const runs = await inPairs(
      cases.map(
        ([entry, args]) =>
          () =>
            cli(entry, args),
      ),
    );
    cases.forEach(([entry, args, message], i) => {
      const run = runs[i]!;
      expect({ cli: `${entry} ${args.join(' ')}`, code: run.code }).toEqual({
        cli: `${entry} ${args.join(' ')}`,
        code: 2,
      });
      expect(run.stderr).toMatch(message);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    });
  });

  it('run for real: done is 0 with the result on stdout, a refusal is 1 with one error line', async () => {
    const [progressRun, refused, yieldRun] = (await inPairs([
      () => cli('ops/cli.ts', ['progress'], true),
      () => cli('billing/src/cli.ts', ['show', '1300-01'], true),
      () => cli('simulators/src/cli.ts', ['yield', '--province', 'Yazd', '--from', '2025-06-01', '--to', '2025-06-03']),
    ])) as [Run, Run, Run];
    expect(progressRun).toMatchObject({ code: 0, stderr: '' });
    expect(progressRun.stdout).toMatch(/^Program progress at /);
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toBe('error: 1300-01 has not been billed; run: npm run billing -- run 1300-01\n');
    expect(yieldRun).toMatchObject({ code: 0, stderr: '' });
    expect(yieldRun.stdout).toMatch(/kWh\/kWp\nBENCH \{"name":"yield"/);
  });

  it('a database away is one error line too, the stack trace only with --debug', async () => {
    // PostgreSQL at a port where nothing listens: an unexpected failure, not a refusal.
    const away = { ...process.env, DATABASE_URL: process.env.DATABASE_URL!.replace(/:\d+\//, ':9/') };
    const run = (args: string[]) =>
      new Promise<Run>((resolve) =>
        execFile(
          process.execPath,
          ['--import', 'tsx', 'billing/src/cli.ts', ...args],
          { env: away, timeout: 120_000 },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        ),
      );
    const [plain, debug] = await Promise.all([run(['show', '1300-01']), run(['show', '1300-01', '--debug'])]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(
      /^error: PostgreSQL is unavailable: connect ECONNREFUSED .+; run it again once it is back\n$/,
    );
    expect(debug.code).toBe(1);
    expect(debug.stderr.split('\n').length).toBeGreaterThan(3);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });
});
