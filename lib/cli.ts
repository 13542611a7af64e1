// One shape for the platform's command lines (sim, billing, settlements, ops): `<cli> <command>
// [options]`, `--help` (or `-h`, or `help <command>`) on the program and on every command, printed
// before anything is parsed or run; errors as one `error: ...` line on stderr (the stack trace of an
// unexpected error only with `--debug`, accepted anywhere on the line); exit codes
// 0 done, 1 the operation failed or was refused, 2 the command line or the configuration is wrong.
// Progress goes to stderr: a bar redrawn in place on a terminal, plain lines otherwise (CI logs).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from './config';
import { redactSecrets } from './logger';
import { unavailableDependency } from './unavailable';

/** A wrong command line: exit code 2, with a pointer to the command's help. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The operation ran and said no (bad rows, a failed check): exit code 1, its message the whole story (details already printed). */
export class Refusal extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;
type Values<O extends Options> = { [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : string };
export interface Parsed<O extends Options = Options> {
  values: Values<O>;
  positionals: string[];
}
export interface Command<O extends Options = Options> {
  /** One line for the program's command list. */
  summary: string;
  /** The full help: usage line, arguments, options. */
  help: string;
  options?: O;
  /** A command with commands of its own: `run` gets the raw arguments and returns their exit code. */
  nested?: boolean;
  /** Resolves when done; a nested command resolves to its exit code. */
  run(args: Parsed<O>): unknown;
}
/** A command whose `run` sees its own options typed. */
export const command = <const O extends Options>(c: Command<O>): Command => c as unknown as Command;

/** For a wrong argument: throws UsageError (exit code 2). */
export function usage(message: string): never {
  throw new UsageError(message);
}
export interface Program {
  /** How it is invoked, e.g. `npm run sim --`. */
  invocation: string;
  commands: Record<string, Command>;
  /** Errors other than `Refusal` that are refusals (exit 1) rather than bugs; their message is the whole story. */
  isRefusal?: (error: unknown) => boolean;
}

const HELP_FLAGS = new Set(['--help', '-h']);
const exitCode = (result: unknown) => (typeof result === 'number' ? result : 0);

export function programHelp(program: Program): string {
  const width = Math.max(...Object.keys(program.commands).map((name) => name.length));
  return [
    `Usage: ${program.invocation} <command> [options]`,
    '',
    'Commands:',
    ...Object.entries(program.commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    `'${program.invocation} <command> --help' shows a command's options.`,
    'Exit codes: 0 done, 1 the operation failed or was refused, 2 wrong command line or configuration.',
    'Errors are one line; --debug adds the stack trace of an unexpected one.',
  ].join('\n');
}

export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
}
const processIO: CliIO = {
  out: (text) => process.stdout.write(`${text}\n`),
  // Errors may quote a driver's message or a URL: secrets are masked as in the logs.
  err: (text) => process.stderr.write(`${redactSecrets(text)}\n`),
};

/** Runs the command named in `argv` and resolves to the exit code (the caller exits with it). */
export async function runProgram(program: Program, argv: string[], io: CliIO = processIO): Promise<number> {
  const debug = argv.includes('--debug');
  const [name, ...args] = argv.filter((a) => a !== '--debug');
  if (name === undefined || HELP_FLAGS.has(name) || (name === 'help' && args.length === 0)) {
    (name === undefined ? io.err : io.out)(programHelp(program));
    return name === undefined ? 2 : 0;
  }
  const helpOf = name === 'help' ? args[0] : undefined;
  const command = program.commands[helpOf ?? name];
  if (!command) {
    io.err(`error: unknown command '${helpOf ?? name}'; '${program.invocation} --help' lists the commands`);
    return 2;
  }
  if (command.nested) return exitCode(await command.run({ values: {}, positionals: helpOf ? ['--help'] : args }));
  if (helpOf || args.some((a) => HELP_FLAGS.has(a))) {
    io.out(command.help);
    return 0;
  }
  const seeHelp = `'${program.invocation} ${name} --help' shows its options`;
  try {
    let parsed: Parsed;
    try {
      parsed = parseArgs({ args, options: command.options ?? {}, allowPositionals: true, strict: true }) as Parsed;
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    return exitCode(await command.run(parsed));
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`error: ${error.message}; ${seeHelp}`);
      return 2;
    }
    if (error instanceof ConfigError) {
      io.err(`error: ${error.message}`);
      return 2;
    }
    const message = (error as Error).message ?? String(error);
    // A database away is no bug: say which, and that running it again later is the remedy.
    const away = unavailableDependency(error);
    if (away) {
      io.err(
        `error: ${message.startsWith(away) ? message : `${away} is unavailable (${message})`}; run it again once it is back`,
      );
      if (debug) io.err(String((error as Error).stack ?? ''));
      return 1;
    }
    const refusal = error instanceof Refusal || (program.isRefusal?.(error) ?? false);
    // One line, whatever failed (a refusal, a bug); where it failed only on request.
    io.err(`error: ${message}${refusal || debug ? '' : ' (--debug shows where it failed)'}`);
    if (debug && !refusal) io.err(String((error as Error).stack ?? ''));
    return 1;
  }
}

/** For a CLI module's last line. A failure exits at once; success lets running work (a schedule, a fleet) go on. */
export async function main(program: Program): Promise<void> {
  const code = await runProgram(program, process.argv.slice(2));
  if (code !== 0) process.exit(code);
}

/** Option values, checked: each throws UsageError naming the option. */
export const positiveNumber = (value: unknown, name: string, fallback: number): number => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got '${value}'`);
  return n;
};
/** A whole number of Wh (a counter, an energy); undefined when the option is not given. */
export const wholeWh = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value)) throw new UsageError(`--${name} must be whole Wh, e.g. 372000, got '${value}'`);
  return Number(value);
};
export const instant = (value: unknown, name: string, fallback: number): number => {
  if (value === undefined) return fallback;
  const ms = Date.parse(String(value));
  if (Number.isNaN(ms)) throw new UsageError(`--${name} must be an RFC 3339 date or timestamp, got '${value}'`);
  return ms;
};

export interface Progress {
  update(done: number, total: number): void;
  /** Ends the bar (a newline on a terminal); `message` is printed as its own line. */
  end(message?: string): void;
}

/**
 * Progress of `label` on stderr. On a terminal: a bar redrawn in place at most 5 times a second.
 * Otherwise (a pipe, a CI log): one plain line at the start, then at most one every `quietMs`, and the last.
 */
export function progress(
  label: string,
  stream: { isTTY?: boolean; write(text: string): unknown } = process.stderr,
  quietMs = 10_000,
): Progress {
  let last = 0;
  let drawn = false;
  let lastDone = -1;
  const line = (done: number, total: number) =>
    `${label}: ${done.toLocaleString('en')}/${total.toLocaleString('en')} (${total > 0 ? Math.floor((done / total) * 100) : 100}%)`;
  return {
    update(done, total) {
      const now = Date.now();
      const finished = done >= total;
      if (stream.isTTY) {
        if (!finished && now - last < 200) return;
        const width = 30;
        const filled = total > 0 ? Math.round((done / total) * width) : width;
        stream.write(
          `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${line(done, total).slice(label.length + 2)}`,
        );
        drawn = true;
      } else {
        if (done === lastDone || (!finished && last !== 0 && now - last < quietMs)) return;
        stream.write(`${line(done, total)}\n`);
      }
      last = now;
      lastDone = done;
    },
    end(message) {
      if (drawn) stream.write('\n');
      drawn = false;
      if (message) stream.write(`${message}\n`);
    },
  };
}
