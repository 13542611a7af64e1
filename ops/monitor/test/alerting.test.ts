// End to end: the platform's rules in a real Prometheus, scraping the real monitor, delivering
// through a real Alertmanager (configured as setup configures it) to a local webhook receiver and
// a local SMTP server (real delivery, with authentication).
// - InfluxDB is stopped: InfluxDBDown must arrive, by webhook and by e-mail; InfluxDB returns: its
//   resolution must arrive. The e-mail carries the runbook and no secret of the platform's.
// - The real alerts job runs, then is killed: AlertsJobStale must arrive; restarted: resolved.
// - Who watches the watchers: Alertmanager's Watchdog reaches the monitor; Alertmanager is killed:
//   the alerts job (needing neither) must deliver WatchersSilent itself; Alertmanager is back: resolved.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, freshPgDatabase, waitFor } from '../../../testing/services';
import { alertmanagerConfig } from '../alertmanager-config';

const run = promisify(execFile);
interface Notification {
  status: 'firing' | 'resolved';
  alerts?: { status: string; labels: Record<string, string>; annotations: Record<string, string> }[];
  /** A notice the alerts job sends itself (alerts/src/watchers.ts). */
  platform?: { alertname: string; status: 'firing' | 'resolved' };
}
const received: Notification[] = [];
const mails: { from: string; to: string[]; user: string; raw: string }[] = [];
const children: ChildProcess[] = [];
let receiver: Server;
let smtp: SMTPServer;
let dir: string;
let jobsDatabaseUrl: string;
let monitorPort: number;
// Sentinels in every secret Alertmanager is given: none may reach a notification.
const SMTP_PASSWORD = 'SMTP-PASS-SENTINEL-7f3a';
const WEBHOOK_TOKEN = 'bot4242:WEBHOOK-TOKEN-SENTINEL';

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
const delivered = (alertname: string, status: Notification['status']) =>
  received.flatMap((n) => n.alerts ?? []).find((a) => a.labels.alertname === alertname && a.status === status);
const influxDown = (status: Notification['status']) => delivered('InfluxDBDown', status);
/** A mail's text: quoted-printable undone (Alertmanager's bodies are), so phrases can be searched. */
const decoded = (raw: string) =>
  raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
const mailAbout = (alertname: string, state: 'FIRING' | 'RESOLVED') =>
  mails.find((m) => new RegExp(`^Subject: \\[${state}(:\\d+)?\\] ${alertname}\\b`, 'm').test(m.raw));

function startAlertsJob(env: NodeJS.ProcessEnv = { ALERTS_WEBHOOK_URLS: '', ALERTS_EMAIL_TO: '' }): ChildProcess {
  return start(process.execPath, ['--import', 'tsx', 'alerts/src/cli.ts', 'run'], {
    ...process.env,
    DATABASE_URL: jobsDatabaseUrl,
    ALERTS_INTERVAL_SECONDS: '10',
    ALERTS_DELIVERY_INTERVAL_SECONDS: '1',
    LOG_LEVEL: 'warn',
    ...env,
  });
}
let receivers: Record<string, string>;
let alertmanager: ChildProcess;
let startAlertmanager: () => Promise<void>;

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
    smtp = new SMTPServer({
      authOptional: false,
      allowInsecureAuth: true, // loopback, as alertmanager-config.ts configures it for a local relay
      disabledCommands: ['STARTTLS'],
      onAuth(auth, _session, callback) {
        if (auth.username === 'alerts' && auth.password === SMTP_PASSWORD) callback(null, { user: auth.username });
        else callback(new Error('invalid username or password'));
      },
      onData(stream, session, callback) {
        let raw = '';
        stream.on('data', (chunk: Buffer) => {
          raw += chunk.toString('utf8');
        });
        stream.on('end', () => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            user: String(session.user),
            raw,
          });
          callback();
        });
      },
    });
    const smtpPort = await freePort();
    await new Promise<void>((done) => smtp.listen(smtpPort, '127.0.0.1', done));
    monitorPort = await freePort();
    const [alertmanagerPort, prometheusPort] = [await freePort(), await freePort()];

    // The periodic jobs' runs in a database of their own: the alerts job evaluates an empty registry.
    jobsDatabaseUrl = await freshPgDatabase('alerting_jobs');
    // Alertmanager posts to the monitor, which relays to the webhook (alertmanager-config.ts says why).
    receivers = {
      ALERTS_WEBHOOK_URLS: `http://127.0.0.1:${receiverPort}/platform-alerts/${WEBHOOK_TOKEN}/sendMessage`,
      ALERTS_EMAIL_TO: 'ops@example.org',
      ALERTS_EMAIL_FROM: 'solar-alerts@example.org',
      ALERTS_SMTP_URL: `smtp://alerts:${SMTP_PASSWORD}@127.0.0.1:${smtpPort}`,
      MONITOR_PORT: String(monitorPort),
      // The Watchdog every second (rules.yml, solar-watchers): the monitor records each arrival.
      ALERTMANAGER_WATCHDOG_INTERVAL_SECONDS: '1',
    };
    start(process.execPath, ['--import', 'tsx', 'ops/monitor/main.ts'], {
      ...process.env,
      ...receivers,
      DATABASE_URL: jobsDatabaseUrl,
      LOG_LEVEL: 'warn',
    });
    const config = alertmanagerConfig({
      ...receivers,
      ALERTMANAGER_GROUP_WAIT: '1s',
      ALERTMANAGER_GROUP_INTERVAL: '2s',
    });
    expect(JSON.stringify(config)).not.toContain(WEBHOOK_TOKEN);
    writeFileSync(join(dir, 'alertmanager.yml'), JSON.stringify(config));
    startAlertmanager = async () => {
      alertmanager = start('prometheus-alertmanager', [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'alertmanager')}`,
        `--web.listen-address=127.0.0.1:${alertmanagerPort}`,
        '--cluster.listen-address=',
      ]);
    };
    await startAlertmanager();
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
      '--rules.alert.resend-delay=1s', // an Alertmanager started again hears of what fires within a second
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
    await new Promise<void>((done) => smtp.close(() => done()));
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

  it('delivers it by e-mail too: the runbook in the mail, no secret in it', async () => {
    const firing = await until('the InfluxDBDown e-mail', () => mailAbout('InfluxDBDown', 'FIRING'), 60_000);
    expect(firing.user).toBe('alerts');
    expect(firing.from).toBe('solar-alerts@example.org');
    expect(firing.to).toEqual(['ops@example.org']);
    const text = decoded(firing.raw);
    expect(text).toContain('Ingest keeps readings in its journal');
    expect(text).toContain('InfluxDB does not answer /ping');
    await until('the resolved e-mail', () => mailAbout('InfluxDBDown', 'RESOLVED'), 60_000);
    // No password or token of the platform's in any mail or webhook body.
    const secrets = [
      SMTP_PASSWORD,
      WEBHOOK_TOKEN,
      ...Object.entries(process.env).flatMap(([name, value]) =>
        /PASSWORD|TOKEN|SECRET|API_KEY/.test(name) && value && value.length >= 8 ? [value] : [],
      ),
      ...['DATABASE_URL', 'DATABASE_OWNER_URL'].flatMap((name) => {
        const password = process.env[name] ? decodeURIComponent(new URL(process.env[name]!).password) : '';
        return password ? [password] : [];
      }),
    ];
    const everything = mails.map((m) => `${m.raw}\n${decoded(m.raw)}`).join('\n') + JSON.stringify(received);
    for (const secret of secrets)
      expect(everything.includes(secret), `a secret (${secret.length} chars) leaked`).toBe(false);
  }, 180_000);

  it('raises AlertsJobStale when the alerts job stops evaluating, and resolves it when the job is back', async () => {
    const metrics = () =>
      fetch(`http://127.0.0.1:${monitorPort}/metrics`)
        .then((r) => r.text())
        .catch(() => '');
    let job = startAlertsJob();
    const evaluated = async () =>
      (await metrics()).includes('solar_job_last_success_timestamp_seconds{name="alerts-evaluation"}');
    const deadline = Date.now() + 120_000;
    while (!(await evaluated())) {
      if (Date.now() > deadline) throw new Error('the alerts job never recorded an evaluation');
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(delivered('AlertsJobStale', 'firing')).toBeUndefined();
    job.kill('SIGKILL'); // a job that hangs or dies says nothing: only its missing runs can tell
    const stale = await until('AlertsJobStale firing', () => delivered('AlertsJobStale', 'firing'), 180_000);
    expect(stale.labels).toMatchObject({ severity: 'critical', name: 'alerts-evaluation' });
    expect(stale.annotations.runbook).toMatch(/systemctl status solar-alerts/);
    // Delivery (every second) is found stale first, by the generic rule.
    expect(delivered('JobStale', 'firing')?.labels.name).toBe('alerts-delivery');
    job = startAlertsJob();
    await until('AlertsJobStale resolved', () => delivered('AlertsJobStale', 'resolved'), 120_000);
    job.kill('SIGTERM');
  }, 420_000);

  it('tells the receivers itself when the Watchdog stops arriving (Alertmanager down), and when it is back', async () => {
    const lastArrival = async () => {
      const client = new pg.Client({ connectionString: jobsDatabaseUrl });
      await client.connect();
      try {
        const { rows } = await client.query<{ at: Date }>('SELECT last_success_at AS at FROM job_runs WHERE job = $1', [
          'alertmanager-watchdog',
        ]);
        return rows[0]?.at.getTime();
      } finally {
        await client.end();
      }
    };
    // The heartbeat arrives at the monitor, again and again.
    const first = await waitFor('the Watchdog at the monitor', lastArrival, (at) => at !== undefined, 60_000, 250);
    await waitFor('a second Watchdog', lastArrival, (at) => at !== undefined && at > first!, 30_000, 250);
    const notices = (status: 'firing' | 'resolved') =>
      received.find((n) => n.platform?.alertname === 'WatchersSilent' && n.platform.status === status);
    const job = startAlertsJob({ ...receivers, ALERTS_WATCHDOG_STALE_SECONDS: '8' });
    try {
      await new Promise((r) => setTimeout(r, 10_000)); // longer than the staleness: heard all along
      expect(notices('firing')).toBeUndefined();

      alertmanager.kill('SIGKILL'); // Alertmanager dies: Prometheus's alerts go nowhere, and say nothing
      const silent = await until('WatchersSilent by webhook', () => notices('firing'), 60_000);
      expect(silent.platform).toMatchObject({ alertname: 'WatchersSilent', status: 'firing' });
      const mail = await until('WatchersSilent by e-mail', () => mailAbout('WatchersSilent', 'FIRING'), 30_000);
      expect(decoded(mail.raw)).toContain('systemctl status solar-prometheus solar-alertmanager');
      expect(mail.to).toEqual(['ops@example.org']);

      await startAlertmanager();
      await until('WatchersSilent resolved by webhook', () => notices('resolved'), 90_000);
      await until('WatchersSilent resolved by e-mail', () => mailAbout('WatchersSilent', 'RESOLVED'), 30_000);
      expect(received.filter((n) => n.platform?.status === 'firing').length).toBe(1); // told once, not every second
    } finally {
      job.kill('SIGTERM');
    }
  }, 300_000);
});
