// The logs services write under the data directory stay bounded (ops/rotate-logs.sh): a real
// Mosquitto, logging to a file as setup configures it (a line per connection), goes on writing at
// the start of its emptied log after each rotation, and only LOG_ROTATE_KEEP copies are kept.
// Before, mosquitto.log (and nginx's, PostgreSQL's...) grew without bound.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '../../testing/services';

const dir = mkdtempSync(join(tmpdir(), 'solar-logs-'));
const log = join(dir, 'mosquitto/mosquitto.log');
let broker: ChildProcess;
let port: number;

const rotate = (env: Record<string, string>) =>
  promisify(execFile)('bash', ['ops/rotate-logs.sh', dir], { env: { ...process.env, ...env }, encoding: 'utf8' });
const read = (path: string) => readFileSync(path, 'utf8');
async function connectAs(clientId: string) {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId, reconnectPeriod: 0 });
  await client.endAsync();
  await waitFor(
    `${clientId} in the broker's log`,
    async () => read(log),
    (text) => text.includes(clientId),
    10_000,
    50,
  );
}

beforeAll(async () => {
  port = await freePort();
  mkdirSync(join(dir, 'mosquitto'));
  mkdirSync(join(dir, 'logs'));
  writeFileSync(
    join(dir, 'mosquitto/mosquitto.conf'),
    // As setup writes it (log_dest file, connection messages); root keeps the temporary directory's owner.
    `user root\nlistener ${port} 127.0.0.1\nallow_anonymous true\nlog_dest file ${log}\nlog_type all\nconnection_messages true\n`,
  );
  broker = spawn('mosquitto', ['-c', join(dir, 'mosquitto/mosquitto.conf')], { stdio: 'ignore' });
  await waitFor(
    'the scratch broker',
    async () => (existsSync(log) ? read(log) : ''),
    (t) => t.includes('running'),
    10_000,
    50,
  );
});
afterAll(() => {
  broker?.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe('log rotation', () => {
  it('empties a log above the limit in place, its writer appending on, and keeps only the last copies', async () => {
    writeFileSync(join(dir, 'logs/quiet.log'), 'x'); // at the limit, not above: left alone
    await connectAs('before-rotation');
    const first = await rotate({ LOG_ROTATE_BYTES: '1', LOG_ROTATE_KEEP: '2' });
    expect(first.stdout).toMatch(/mosquitto\/mosquitto\.log: rotated/);
    expect(read(`${log}.1`)).toContain('before-rotation');
    expect(read(join(dir, 'logs/quiet.log'))).toBe('x');
    expect(existsSync(join(dir, 'logs/quiet.log.1'))).toBe(false);

    await connectAs('after-rotation');
    const now = read(log);
    // Written at the start of the emptied file: no hole of NUL bytes where the old end was, nothing old.
    expect(now).not.toContain('\0');
    expect(now).not.toContain('before-rotation');
    expect(now.length).toBeLessThan(1000);

    await rotate({ LOG_ROTATE_BYTES: '1', LOG_ROTATE_KEEP: '2' });
    await connectAs('third-connection');
    await rotate({ LOG_ROTATE_BYTES: '1', LOG_ROTATE_KEEP: '2' });
    expect(read(`${log}.1`)).toContain('third-connection');
    expect(read(`${log}.2`)).toContain('after-rotation');
    expect(existsSync(`${log}.3`)).toBe(false);
    // The default limit (64 MiB) leaves today's small logs alone.
    expect((await rotate({})).stdout).toBe('');
    expect(read(`${log}.1`)).toContain('third-connection');
  });
});
