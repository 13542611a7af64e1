// Test helpers for the gateway's tests: a free TCP port, a socat pseudo-terminal pair.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Two linked pseudo-terminals (a serial line without hardware); stop `socat` by its PID. */
export async function ptyPair(dir: string): Promise<{ a: string; b: string; socat: ChildProcess }> {
  const a = join(dir, 'ttyA');
  const b = join(dir, 'ttyB');
  const socat = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !(existsSync(a) && existsSync(b)); i++) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(a) || !existsSync(b)) throw new Error('socat made no pseudo-terminal pair');
  return { a, b, socat };
}
