// Running the tools a backup is made with (pgbackrest, influxd, the profile's services script):
// output captured, a failure reported with the tool's own last lines.
import { spawn } from 'node:child_process';

export interface RunOptions {
  /** Run as this system user when we are root (PostgreSQL's files belong to `postgres`). */
  asUser?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export class ToolFailed extends Error {
  override name = 'ToolFailed';
}

/** Runs `command args`, resolves to its stdout; rejects with the command and its stderr's last lines. */
export function runTool(command: string, args: string[], options: RunOptions = {}): Promise<string> {
  const asRoot = process.getuid?.() === 0;
  const [file, argv] =
    options.asUser && asRoot ? ['runuser', ['-u', options.asUser, '--', command, ...args]] : [command, args];
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { env: options.env ?? process.env, cwd: options.cwd, stdio: 'pipe' });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error) => reject(new ToolFailed(`${command}: ${error.message}`)));
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString();
      if (code === 0) return resolve(stdout);
      const tail = `${Buffer.concat(err).toString()}${stdout}`.trim().split('\n').slice(-8).join('\n  ');
      reject(new ToolFailed(`${command} ${args[0] ?? ''} failed (exit ${code})${tail ? `:\n  ${tail}` : ''}`));
    });
  });
}
