// The shape every CLI shares (lib/cli.ts): help before anything runs, one error format, exit codes,
// progress as a bar on a terminal and as plain lines elsewhere.
import { describe, expect, it } from 'vitest';
import { command, type Parsed, progress, Refusal, runProgram, UsageError, usage, wholeWh } from './cli';
import { ConfigError } from './config';
import { PostgresUnavailable } from './unavailable';

function harness() {
  const out: string[] = [];
  const err: string[] = [];
  const ran: Parsed[] = [];
  const options = { count: { type: 'string' }, dry: { type: 'boolean' } } as const;
  const program = {
    invocation: 'npm run demo --',
    isRefusal: (e: unknown) => e instanceof RangeError,
    commands: {
      go: command({
        summary: 'does it',
        help: 'Usage: npm run demo -- go [--count N] [--dry]',
        options,
        run: (args) => {
          ran.push(args);
          if (args.values.count === 'bad') usage('--count must be a number');
          if (args.values.count === 'refuse') throw new RangeError('month 1405-08 is closed');
          if (args.values.count === 'rows') throw new Refusal('2 bad row(s) in plan.csv');
          if (args.values.count === 'config') throw new ConfigError(['X is required']);
          if (args.values.count === 'away') throw new Error('connect ECONNREFUSED 127.0.0.1:8086');
          if (args.values.count === 'pg-refused')
            throw new PostgresUnavailable(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
          if (args.values.count === 'pg-stopping')
            throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
        },
      }),
    },
  };
  const run = (...argv: string[]) => runProgram(program, argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { out, err, ran, run };
}

describe('one CLI shape', () => {
  it('answers --help, -h and help COMMAND before parsing or running anything', async () => {
    for (const argv of [
      ['go', '--help'],
      ['go', '--bogus', '-h'],
      ['help', 'go'],
    ]) {
      const h = harness();
      expect(await h.run(...argv)).toBe(0);
      expect(h.out).toEqual(['Usage: npm run demo -- go [--count N] [--dry]']);
      expect(h.ran).toEqual([]);
    }
    const h = harness();
    expect(await h.run('--help')).toBe(0);
    expect(h.out[0]).toMatch(/^Usage: npm run demo -- <command>[\s\S]*go {2}does it[\s\S]*Exit codes: 0 done, 1/);
  });

  it('runs the command with its options typed and parsed', async () => {
    const h = harness();
    expect(await h.run('go', 'FILE', '--count', '3', '--dry')).toBe(0);
    expect(h.ran).toEqual([{ values: { count: '3', dry: true }, positionals: ['FILE'] }]);
  });

  it('reports every problem as one error line with its exit code', async () => {
    const cases: [string[], number, RegExp][] = [
      [[], 2, /^Usage: /],
      [['nope'], 2, /^error: unknown command 'nope'; 'npm run demo -- --help' lists the commands$/],
      [['go', '--bogus'], 2, /^error: Unknown option '--bogus'.*; 'npm run demo -- go --help' shows its options$/],
      [['go', '--count'], 2, /^error: Option '--count <value>' argument missing; /],
      [['go', '--count', 'bad'], 2, /^error: --count must be a number; 'npm run demo -- go --help'/],
      [['go', '--count', 'config'], 2, /^error: invalid configuration:\n {2}- X is required/],
      [['go', '--count', 'refuse'], 1, /^error: month 1405-08 is closed$/],
      [['go', '--count', 'rows'], 1, /^error: 2 bad row\(s\) in plan.csv$/],
    ];
    for (const [argv, code, message] of cases) {
      const h = harness();
      expect(await h.run(...argv), argv.join(' ')).toBe(code);
      expect(h.err[0]).toMatch(message);
      if (code === 1) expect(h.err).toHaveLength(1); // a refusal is its message, no stack
    }
  });

  it('prints an unexpected failure (a database away, a bug) as one line too; the stack only with --debug', async () => {
    const h = harness();
    expect(await h.run('go', '--count', 'away')).toBe(1);
    expect(h.err).toEqual(['error: connect ECONNREFUSED 127.0.0.1:8086 (--debug shows where it failed)']);
    const d = harness();
    expect(await d.run('go', '--count', 'away', '--debug')).toBe(1);
    expect(d.err[0]).toBe('error: connect ECONNREFUSED 127.0.0.1:8086');
    expect(d.err[1]).toMatch(/^Error: connect ECONNREFUSED[\s\S]*\n\s+at /);
    expect(d.ran[0]).toEqual({ values: { count: 'away' }, positionals: [] }); // --debug is not the command's option
  });

  it('names a database that is away, once, and says that running it again is the remedy', async () => {
    const refused = harness();
    expect(await refused.run('go', '--count', 'pg-refused')).toBe(1);
    expect(refused.err).toEqual([
      'error: PostgreSQL is unavailable: connect ECONNREFUSED 127.0.0.1:5432; run it again once it is back',
    ]);
    const stopping = harness();
    expect(await stopping.run('go', '--count', 'pg-stopping')).toBe(1);
    expect(stopping.err).toEqual([
      'error: PostgreSQL is unavailable (terminating connection due to administrator command); run it again once it is back',
    ]);
  });
});

describe('option values', () => {
  it('takes a counter or an energy as whole Wh only, naming the option and the value refused', () => {
    expect(wholeWh('2450000', 'counter-wh')).toBe(2_450_000);
    expect(wholeWh(undefined, 'counter-wh')).toBeUndefined();
    // kWh from a display ("2450.5") is not taken as 2,450.5 Wh: the unit is the operator's to convert.
    for (const bad of ['2450.5', '-1', '1e6', '', '12 kWh'])
      expect(() => wholeWh(bad, 'counter-wh')).toThrow(
        new UsageError(`--counter-wh must be whole Wh, e.g. 372000, got '${bad}'`),
      );
  });
});

describe('progress', () => {
  const capture = (isTTY: boolean) => {
    const written: string[] = [];
    return { written, stream: { isTTY, write: (t: string) => written.push(t) } };
  };

  it('draws a bar in place on a terminal and ends it with a newline', () => {
    const { written, stream } = capture(true);
    const p = progress('rows', stream);
    for (let i = 0; i <= 1000; i++) p.update(i, 1000);
    p.end('done');
    expect(written[0]).toMatch(/^\rrows \[\.+\] 0\/1,000 \(0%\)$/);
    expect(written.at(-3)).toBe(`\rrows [${'#'.repeat(30)}] 1,000/1,000 (100%)`);
    expect(written.slice(-2)).toEqual(['\n', 'done\n']);
    expect(written.length).toBeLessThan(10); // redrawn at most 5 times a second
  });

  it('writes plain lines elsewhere (a pipe, a CI log): the first, then rarely, and the last', () => {
    const { written, stream } = capture(false);
    const p = progress('rows', stream);
    for (let i = 0; i <= 1000; i++) p.update(i, 1000);
    p.end();
    expect(written).toEqual(['rows: 0/1,000 (0%)\n', 'rows: 1,000/1,000 (100%)\n']);
    expect(written.join('')).not.toContain('\r');
  });
});
