// Every long-running component says which version it runs, in /healthz and in its metrics, so an
// operator sees an upgrade reach every process (docs/upgrade.md): the running ingest worker, the
// API and the monitor all report package.json's version and the commit git describes.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testApp } from '../../testing/api';
import {
  discardIngestSession,
  freshInfluxDatabase,
  type IngestProcess,
  startIngestProcess,
  waitFor,
} from '../../testing/services';

const expected = {
  version: (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version,
  commit: execFileSync('git', ['describe', '--always', '--dirty'], { encoding: 'utf8' }).trim(),
};
const buildInfoLine = (text: string, component: string) =>
  text.split('\n').find((l) => l.startsWith('solar_build_info{') && l.includes(`component="${component}"`));
const expectedLine = (component: string) =>
  `solar_build_info{component="${component}",version="${expected.version}",commit="${expected.commit}"} 1`;

const freePort = () =>
  new Promise<number>((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });

let ingest: IngestProcess | undefined;
const workerId = `version-${process.pid}`;
const dataDir = mkdtempSync(join(tmpdir(), 'version-test-'));
afterAll(async () => {
  await ingest?.stop();
  await discardIngestSession(workerId);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the running version', () => {
  it('is git describe of this checkout and package.json version', () => {
    expect(expected.commit).toMatch(/^[0-9a-f]{7,}(-dirty)?$|^v?\d/);
  });

  it('is in ingest’s /healthz and metrics', async () => {
    // A worker of its own (share group, journal, database): it must not take other tests' readings.
    await freshInfluxDatabase('version_check');
    ingest = await startIngestProcess({
      INGEST_WORKER_ID: workerId,
      INGEST_SHARE_GROUP: workerId,
      INGEST_DATA_DIR: dataDir,
      INFLUX_DATABASE: 'version_check',
    });
    const health = (await (await fetch(`http://127.0.0.1:${ingest.port}/healthz`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject(expected);
    const metrics = await (await fetch(`http://127.0.0.1:${ingest.port}/metrics`)).text();
    expect(buildInfoLine(metrics, 'ingest')).toBe(expectedLine('ingest'));
  }, 90_000);

  it('is in the API’s /healthz', async () => {
    const app = await testApp();
    try {
      const response = await app.inject({ method: 'GET', url: '/healthz' });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ status: 'ok', ...expected });
    } finally {
      await app.close();
    }
  });

  it('is in the monitor’s /healthz and metrics', async () => {
    const port = await freePort();
    const monitor = spawn(process.execPath, ['--import', 'tsx', 'ops/monitor/main.ts'], {
      env: { ...process.env, MONITOR_PORT: String(port), LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    try {
      const health = await waitFor(
        'the monitor',
        () =>
          fetch(`http://127.0.0.1:${port}/healthz`)
            .then((r) => r.json() as Promise<Record<string, unknown>>)
            .catch(() => ({}) as Record<string, unknown>),
        (h) => h.status === 'ok',
        60_000,
        250,
      );
      expect(health).toMatchObject(expected);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(buildInfoLine(metrics, 'monitor')).toBe(expectedLine('monitor'));
    } finally {
      monitor.kill('SIGTERM');
    }
  }, 90_000);
});
