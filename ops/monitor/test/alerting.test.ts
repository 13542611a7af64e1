// End to end: the platform's rules in a real Prometheus, scraping the real monitor, delivering
// through a real Alertmanager (configured as setup configures it) to a local webhook receiver.
// InfluxDB is stopped: InfluxDBDown must arrive; InfluxDB returns: its resolution must arrive.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertmanagerConfig } from '../alertmanager-config';

const run = promisify(execFile);
interface Notification {
  status: 'firing' | 'resolved';
  alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string> }[];
}
const received: Notification[] = [];
const children: ChildProcess[] = [];
let receiver: Server;
let dir: string;

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
    server.on('error', fail);
  });
}
function start(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const child = spawn(command, args, { env, stdio: 'ignore' });
  children.push(child);
  return child;
}
async function until<T>(what: string, check: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; received: ${JSON.stringify(received)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
const influx = (action: 'start' | 'stop') => run('bash', ['ops/services.sh', action, 'influxdb'], { env: process.env });
const influxDown = (status: Notification['status']) =>
  received.flatMap((n) => n.alerts).find((a) => a.labels.alertname === 'InfluxDBDown' && a.status === status);

describe('the platform watches itself', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'solar-alerting-'));
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        received.push(JSON.parse(body) as Notification);
        response.writeHead(200).end();
      });
    });
    const receiverPort = await freePort();
    await new Promise<void>((done) => receiver.listen(receiverPort, '127.0.0.1', done));
    const [monitorPort, alertmanagerPort, prometheusPort] = [await freePort(), await freePort(), await freePort()];

    start(process.execPath, ['--import', 'tsx', 'ops/monitor/main.ts'], {
      ...process.env,
      MONITOR_PORT: String(monitorPort),
      LOG_LEVEL: 'warn',
    });
    const config = alertmanagerConfig({
      ALERTS_WEBHOOK_URLS: `http://127.0.0.1:${receiverPort}/platform-alerts`,
      ALERTMANAGER_GROUP_WAIT: '1s',
      ALERTMANAGER_GROUP_INTERVAL: '2s',
    });
    writeFileSync(join(dir, 'alertmanager.yml'), JSON.stringify(config));
    start('prometheus-alertmanager', [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'alertmanager')}`,
      `--web.listen-address=127.0.0.1:${alertmanagerPort}`,
      '--cluster.listen-address=',
    ]);
    writeFileSync(
      join(dir, 'prometheus.yml'),
      JSON.stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [resolve('ops/monitor/rules.yml')],
        alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${alertmanagerPort}`] }] }] },
        scrape_configs: [{ job_name: 'monitor', static_configs: [{ targets: [`127.0.0.1:${monitorPort}`] }] }],
      }),
    );
    start('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'prometheus')}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
    ]);
    for (const [name, url] of [
      ['monitor', `http://127.0.0.1:${monitorPort}/metrics`],
      ['alertmanager', `http://127.0.0.1:${alertmanagerPort}/-/ready`],
      ['prometheus', `http://127.0.0.1:${prometheusPort}/-/ready`],
    ] as const) {
      const deadline = Date.now() + 60_000;
      while (
        !(await fetch(url)
          .then((r) => r.ok)
          .catch(() => false))
      ) {
        if (Date.now() > deadline) throw new Error(`${name} did not start`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }, 120_000);

  afterAll(async () => {
    await influx('start');
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    await new Promise<void>((done) => receiver.close(() => done()));
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('delivers InfluxDBDown to the webhook when InfluxDB stops, and its resolution when it returns', async () => {
    expect(influxDown('firing')).toBeUndefined();
    await influx('stop');
    const firing = await until('InfluxDBDown firing', () => influxDown('firing'), 120_000);
    expect(firing.labels.severity).toBe('critical');
    expect(firing.annotations.runbook).toMatch(/journal/);
    await influx('start');
    await until('InfluxDBDown resolved', () => influxDown('resolved'), 120_000);
  }, 300_000);
});
