// No secret leaves a process in clear: every long-running component and command line is started
// with a distinct sentinel (or the profile's real, random password) in every secret setting, is
// exercised (a start, requests, a failed delivery, a refused login, a bad setting), and everything
// it prints or logs, and the errors it stores, are searched for each of them.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raiseAlert, readAlertsConfig } from '../../alerts/index';
import { nationalCodeFor } from '../../lib/identifiers/validate';
import { asOwner, env, freePort, freshPgDatabase, startIngestProcess, waitFor } from '../../testing/services';
import { alertmanagerConfig } from '../monitor/alertmanager-config';

const tag = `${process.pid}`;
/** Settings that exist only to be leaked: mail servers, bot token, webhook, SMS and gateway keys. */
const SENTINELS = {
  smtpPassword: `SmtpSentinel${tag}x7Q`,
  botToken: `BotSentinel${tag}kZ9`,
  webhookKey: `HookKeySentinel${tag}pW3`,
  refusedDbPassword: `DbSentinel${tag}mR4`,
  badSetting: `BadSettingSentinel${tag}vT8`,
  smsApiKey: `SmsKeySentinel${tag}qL5`,
  reportSmtpPassword: `ReportSmtpSentinel${tag}bH6`,
  gatewayPassword: `GatewaySentinel${tag}cJ2`,
  gatewayUrlPassword: `GatewayUrlSentinel${tag}dK7`,
};
/** The profile's own secrets: random, so they are sentinels too. */
function profileSecrets(): string[] {
  const fromUrl = (url: string | undefined) => (url ? decodeURIComponent(new URL(url).password) : '');
  return [
    fromUrl(env.DATABASE_URL),
    fromUrl(env.DATABASE_OWNER_URL),
    env.INFLUX_ADMIN_PASSWORD,
    env.INFLUX_WRITER_PASSWORD,
    env.INFLUX_READER_PASSWORD,
    env.MQTT_ADMIN_PASSWORD,
    env.MQTT_INGEST_PASSWORD,
    env.MQTT_FLEET_PASSWORD,
  ].filter((s): s is string => typeof s === 'string' && s.length >= 8);
}

let databaseUrl: string;
let hook: Server;
let hookPort = 0;
/** A careless mail server: refuses every login, quoting the user and password it was sent. */
let mailer: SMTPServer;
let mailerPort = 0;
/** Requests the relay got for the bot's path: Alertmanager's notifications, through the monitor. */
let botPosts = 0;
let dataDir: string;
const gatewayFile = () => join(dataDir, 'gateway.json');
const badGatewayFile = () => join(dataDir, 'gateway-bad.json');
const outputs: { what: string; text: string }[] = [];

/** Runs `script args` as a process; with `until`, stops it (SIGTERM) once its output matches. */
async function runProcess(
  what: string,
  script: string,
  args: string[],
  overrides: Record<string, string>,
  until?: RegExp,
): Promise<{ code: number | null; text: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env: { ...env, ...sentinelEnv(), ...overrides },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (d) => {
    text += d;
  });
  child.stderr!.on('data', (d) => {
    text += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  if (until) {
    await waitFor(
      `${what} to print ${until}`,
      async () => (child.exitCode === null ? text : `${text}\n(exited ${child.exitCode})`),
      (t) => until.test(t) || t.includes('(exited'),
      60_000,
      100,
    );
    if (child.exitCode === null) child.kill('SIGTERM');
  }
  const code = await exited;
  outputs.push({ what, text });
  return { code, text };
}

function sentinelEnv(): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'debug',
    SOLAR_DATA_DIR: dataDir,
    ALERTS_EMAIL_TO: 'duty@solar.invalid',
    // Nothing answers SMTP on port 9: the mail fails after the password was handed to nodemailer.
    ALERTS_SMTP_URL: `smtp://alerts:${SENTINELS.smtpPassword}@127.0.0.1:9`,
    ALERTS_WEBHOOK_URLS: [
      `http://127.0.0.1:${hookPort}/bot123456789:${SENTINELS.botToken}/sendMessage`,
      `http://127.0.0.1:${hookPort}/relay?key=${SENTINELS.webhookKey}`,
    ].join(','),
    ALERTS_DELIVERY_TIMEOUT_MS: '2000',
    ALERTS_DELIVERY_INTERVAL_SECONDS: '1',
    // The careless relay answers the SMS provider's calls too, echoing the key it was sent.
    SMS_API_KEY: SENTINELS.smsApiKey,
    SMS_API_URL: `http://127.0.0.1:${hookPort}/v1`,
    SMS_LINE_NUMBER: '30001234',
    SMS_QUIET_HOURS: 'none',
    // The monthly report's mail server (the API mails closed months' reports).
    REPORT_EMAIL_TO: 'board@solar.invalid',
    REPORT_SMTP_URL: `smtp://reports:${SENTINELS.reportSmtpPassword}@127.0.0.1:9`,
  };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'secrets-output-'));
  // A careless relay: refuses every message and echoes the URL and the API key it was called with.
  hook = createServer((req, res) => {
    req.resume();
    if (req.url?.startsWith('/bot')) botPosts += 1;
    const message = `relay failed for ${req.url} (key ${req.headers['x-api-key']})`;
    res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 0, message }));
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  hookPort = (hook.address() as AddressInfo).port;
  mailer = new SMTPServer({
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    onAuth: (auth, _session, callback) => callback(new Error(`no such user ${auth.username}:${auth.password}`)),
  });
  mailerPort = await freePort();
  await new Promise<void>((resolve) => mailer.listen(mailerPort, '127.0.0.1', resolve));
  // A gateway whose broker account does not exist (refused), the password also in the URL by a
  // careless hand; and the same file with a slip that makes it not JSON.
  const tls = new URL(env.MQTT_TLS_URL ?? 'mqtts://127.0.0.1:1');
  const gateway = JSON.stringify(
    {
      gatewayId: `secrets-${tag}`,
      broker: {
        url: `mqtts://gw:${SENTINELS.gatewayUrlPassword}@${tls.host}`,
        caFile: env.MQTT_TLS_CA_FILE,
        username: `gw:secrets-${tag}`,
        password: SENTINELS.gatewayPassword,
        backoff: { initialMs: 100, maxMs: 500 },
      },
      pollSeconds: 1,
      outbox: { dir: join(dataDir, 'gateway-outbox'), maxBytes: 64 * 1024 * 1024 },
      links: [{ kind: 'tcp', host: '127.0.0.1', port: 9, inverters: [{ serial: `SECRETS${tag}-GW`, unitId: 1 }] }],
    },
    null,
    2,
  );
  writeFileSync(gatewayFile(), gateway, { mode: 0o600 });
  writeFileSync(badGatewayFile(), gateway.replace(`"${SENTINELS.gatewayPassword}"`, `'${SENTINELS.gatewayPassword}'`), {
    mode: 0o600,
  });
  databaseUrl = await freshPgDatabase('secrets_output_test');
  // One installation with an alert, so delivery runs (and fails) for every recipient; a demo marker,
  // so the demo seed takes its quick path.
  const owner = new pg.Client({ connectionString: asOwner(databaseUrl) });
  await owner.connect();
  const { rows } = await owner.query<{ id: number }>(
    `INSERT INTO installations (code, name, province_id, latitude, longitude, dc_capacity_kwp, ac_rating_kw, status, updated_at)
     SELECT 'SECRETS-1', 'secrets test', id, latitude, longitude, 5, 5, 'COMMISSIONED', now() FROM provinces WHERE code = 'yazd'
     RETURNING id`,
  );
  await owner.query(
    `INSERT INTO audit_log (actor, action, entity, entity_id, after) VALUES ('demo', 'demo.seeded', 'demo', '1', '{"installations": 4}')`,
  );
  // One SMS queued, so the sender calls the provider (the relay) with the key.
  await owner.query(
    `WITH b AS (
       INSERT INTO beneficiaries (national_code, full_name, mobile, province_id, target_group, updated_at)
       SELECT $1, 'secrets test', '09120000000', id, 'OTHER', now() FROM provinces WHERE code = 'yazd' RETURNING id)
     INSERT INTO sms_messages (beneficiary_id, month, kind, mobile, text) SELECT id, '1405-08', 'PAID', '09120000000', 'paid' FROM b`,
    [nationalCodeFor(Number(tag))],
  );
  await owner.end();
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  await raiseAlert(pool, readAlertsConfig({ ...env, ...sentinelEnv() }), {
    rule: 'METER_SHORTFALL',
    installationId: rows[0]!.id,
    cause: 'export_meter',
    severity: 'MAJOR',
    summary: 'export meter below telemetry',
    lostKwhPerDay: 2,
    actor: 'settlements',
  });
  await pool.end();
}, 120_000);
afterAll(async () => {
  await new Promise((resolve) => hook?.close(resolve));
  await new Promise<void>((resolve) => (mailer ? mailer.close(() => resolve()) : resolve()));
  rmSync(dataDir, { recursive: true, force: true });
});

describe('secrets in output', () => {
  it('no process prints or logs a password, token or key it was given', async () => {
    // Long-running components: started, exercised, stopped.
    const ingest = await startIngestProcess({ ...sentinelEnv(), INGEST_WORKER_ID: `secrets${tag}` });
    await ingest.stop();
    outputs.push({ what: 'ingest', text: ingest.output() });

    // A port free right now, from the system: any fixed formula met another checkout's services
    // (29,400 + offset is the Alertmanager of the checkout 10 above).
    const apiPort = String(await freePort());
    const api = spawn(process.execPath, ['--import', 'tsx', 'api/src/server.ts'], {
      // No warm-up and no drain: this test is about what the API prints, not about its restarts.
      env: { ...env, ...sentinelEnv(), API_PORT: apiPort, API_WARM_UP_ROUNDS: '0', API_DRAIN_SECONDS: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let apiText = '';
    api.stdout!.on('data', (d) => {
      apiText += d;
    });
    api.stderr!.on('data', (d) => {
      apiText += d;
    });
    const base = `http://127.0.0.1:${apiPort}`;
    await waitFor(
      'the API to listen',
      () => fetch(`${base}/healthz`).catch(() => null),
      (r) => r !== null,
      60_000,
      200,
    );
    await fetch(`${base}/auth/staff/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'nobody', password: SENTINELS.badSetting }),
    });
    await fetch(`${base}/alerts/notifications?token=${SENTINELS.webhookKey}`);
    await waitFor(
      'the API to reconcile devices',
      async () => apiText,
      (t) => /device accounts/.test(t),
      30_000,
      200,
    );
    const apiExited = new Promise((resolve) => api.once('exit', resolve));
    api.kill('SIGTERM');
    await apiExited;
    outputs.push({ what: 'api', text: apiText });

    // The monitor: started, scraped, relaying Alertmanager's webhooks, stopped; its metrics are an answer too.
    const monitorPort = String(await freePort());
    const monitor = spawn(process.execPath, ['--import', 'tsx', 'ops/monitor/main.ts'], {
      env: { ...env, ...sentinelEnv(), MONITOR_PORT: monitorPort },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let monitorText = '';
    monitor.stdout!.on('data', (d) => {
      monitorText += d;
    });
    monitor.stderr!.on('data', (d) => {
      monitorText += d;
    });
    const metrics = await waitFor(
      'the monitor to answer',
      () =>
        fetch(`http://127.0.0.1:${monitorPort}/metrics`).then(
          (r) => r.text(),
          () => null,
        ),
      (t) => t?.includes('solar_dependency_up') === true,
      60_000,
      200,
    );
    // Alertmanager as setup configures it, from the same settings: one alert, delivered (and failed)
    // to the webhooks and the mail server; its API's view of its configuration and its log are searched.
    const alertmanagerPort = String(await freePort());
    const amDir = join(dataDir, 'alertmanager');
    mkdirSync(amDir);
    const amConfig = alertmanagerConfig({ ...sentinelEnv(), MONITOR_PORT: monitorPort, ALERTMANAGER_GROUP_WAIT: '1s' });
    writeFileSync(join(amDir, 'alertmanager.yml'), JSON.stringify(amConfig), { mode: 0o600 });
    const alertmanager = spawn(
      'prometheus-alertmanager',
      [
        `--config.file=${join(amDir, 'alertmanager.yml')}`,
        `--storage.path=${join(amDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${alertmanagerPort}`,
        '--cluster.listen-address=',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let amText = '';
    alertmanager.stdout!.on('data', (d) => {
      amText += d;
    });
    alertmanager.stderr!.on('data', (d) => {
      amText += d;
    });
    const am = `http://127.0.0.1:${alertmanagerPort}`;
    await waitFor(
      'Alertmanager to be ready',
      () =>
        fetch(`${am}/-/ready`).then(
          (r) => r.ok,
          () => false,
        ),
      Boolean,
      30_000,
      200,
    );
    await fetch(`${am}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ labels: { alertname: 'SecretsTest', severity: 'critical' } }]),
    });
    await waitFor(
      'a notification relayed to the bot',
      async () => botPosts,
      (n) => n > 0,
      60_000,
      200,
    );
    await waitFor(
      'a failed delivery in its log',
      async () => amText,
      (t) => /Notify[^"\n]{0,40}failed/.test(t),
      60_000,
      200,
    );
    const amStatus = await (await fetch(`${am}/api/v2/status`)).text();
    const amExited = new Promise((resolve) => alertmanager.once('exit', resolve));
    alertmanager.kill('SIGTERM');
    await amExited;
    outputs.push({ what: 'alertmanager', text: amText }, { what: 'alertmanager /api/v2/status', text: amStatus });
    expect(amStatus).toContain('<secret>'); // the SMTP password, in Alertmanager's own masking

    const monitorExited = new Promise((resolve) => monitor.once('exit', resolve));
    monitor.kill('SIGTERM');
    await monitorExited;
    outputs.push({ what: 'monitor', text: monitorText }, { what: 'monitor /metrics', text: metrics ?? '' });

    // The rest, four at a time (each pays a few seconds of start-up).
    const refused = new URL(databaseUrl);
    refused.password = SENTINELS.refusedDbPassword;
    const codes = new Map<string, number | null>();
    const jobs: [string, string, string[], Record<string, string>, RegExp?][] = [
      ['billing schedule', 'billing/src/cli.ts', ['schedule'], {}, /billing scheduler started/],
      [
        'sim fleet',
        'simulators/src/cli.ts',
        ['fleet', '--inverters', '2', '--prefix', `SECRETS${tag}-`, '--interval', '1', '--duration', '2'],
        {},
      ],
      ['demo seed', 'demo/src/cli.ts', ['seed'], { SOLAR_PROFILE: 'run' }],
      ['billing run', 'billing/src/cli.ts', ['run'], {}],
      ['billing show', 'billing/src/cli.ts', ['show'], {}],
      ['billing sms-send', 'billing/src/cli.ts', ['sms-send'], {}],
      ['ops progress', 'ops/cli.ts', ['progress'], {}],
      ['ops reconcile-devices', 'ops/cli.ts', ['reconcile-devices'], {}],
      ['ops fleet-account', 'ops/cli.ts', ['fleet-account', 'status'], {}],
      ['ops settlements cash', 'ops/cli.ts', ['settlements', 'cash'], {}],
      ['ops backups', 'ops/cli.ts', ['backups'], {}],
      // Refused by PostgreSQL, and secret settings that are wrong.
      ['billing run, refused', 'billing/src/cli.ts', ['run'], { DATABASE_URL: refused.toString() }],
      [
        'ingest, bad setting',
        'ingest/src/main.ts',
        [],
        { DATABASE_URL: `postgresql://solar_app:${SENTINELS.badSetting}@127.0.0.1:not-a-port/solar` },
      ],
      [
        'alerts, bad webhook',
        'alerts/src/cli.ts',
        ['deliver'],
        { ALERTS_WEBHOOK_URLS: `ftp://relay:${SENTINELS.badSetting}@127.0.0.1/x` },
      ],
      // Setup makes Alertmanager's configuration from the same settings (its good output is that file).
      [
        'alertmanager config, bad setting',
        'ops/monitor/alertmanager-config.ts',
        [],
        { ALERTS_SMTP_URL: `smtp://alerts:${SENTINELS.badSetting}@127.0.0.1:not-a-port` },
      ],
      // The gateway: refused by the broker's TLS listener, its status, and a file that is not JSON.
      ['gateway run', 'gateway/src/main.ts', ['run', '--config', gatewayFile()], {}, /unreachable[\s\S]*unreachable/],
      ['gateway status', 'gateway/src/main.ts', ['status', '--config', gatewayFile()], {}],
      ['gateway, bad file', 'gateway/src/main.ts', ['status', '--config', badGatewayFile()], {}],
    ];
    const alertsJob = (async () => {
      // The job delivers (and fails) once per recipient, its mail refused by a server quoting the
      // password; then a one-off delivery round.
      const alerts = await runProcess(
        'alerts run',
        'alerts/src/cli.ts',
        ['run'],
        {
          ALERTS_INTERVAL_SECONDS: '10',
          ALERTS_SMTP_URL: `smtp://alerts:${SENTINELS.smtpPassword}@127.0.0.1:${mailerPort}`,
        },
        /notification not delivered[\s\S]*notification not delivered[\s\S]*notification not delivered/,
      );
      expect(alerts.text).toMatch(/alerts started/);
      await runProcess('alerts deliver', 'alerts/src/cli.ts', ['deliver'], {});
    })();
    await Promise.all([
      alertsJob,
      ...[0, 1, 2].map(async () => {
        for (let job = jobs.shift(); job; job = jobs.shift())
          codes.set(job[0], (await runProcess(job[0], job[1], job[2], job[3], job[4])).code);
      }),
    ]);
    expect(codes.get('billing run, refused')).not.toBe(0);
    expect(codes.get('ingest, bad setting')).toBe(2);
    expect(codes.get('alerts, bad webhook')).toBe(2);

    // What the platform stored about failures: the SMS provider's (echoing) answer, the deliveries'.
    const stored = new pg.Client({ connectionString: asOwner(databaseUrl) });
    await stored.connect();
    const errors = await stored.query<{ text: string }>(
      `SELECT last_error AS text FROM sms_messages UNION ALL SELECT last_error FROM alert_notifications
       UNION ALL SELECT error FROM alert_delivery_attempts UNION ALL SELECT after::text FROM audit_log`,
    );
    await stored.end();
    outputs.push({ what: 'stored errors', text: errors.rows.map((r) => r.text ?? '').join('\n') });

    // The capture is real: each process logged at debug level or printed its result.
    const all = outputs.map((o) => `==> ${o.what}\n${o.text}`).join('\n');
    expect(all).toMatch(/"name":"ingest-secrets/);
    expect(all).toMatch(/"name":"api"/);
    expect(all).toMatch(/notification not delivered/);
    // The alerts job logs a failed delivery as an error (not as text pino spreads into characters),
    // the mail server's echo of the password included, censored.
    expect(all).toMatch(/"err":\{"type":"Error","message":"[^"]*no such user alerts:\[redacted\]/);
    expect(all).not.toMatch(/"err":\{"0":/);
    expect(all).toMatch(/billing scheduler started/);
    expect(all).toMatch(/demo program: already seeded/);
    expect(all).toMatch(/\[redacted\]/);
    expect(all).toMatch(/sms: batch not sent/);
    expect(all).toMatch(/==> stored errors\n[\s\S]*relay failed/);
    expect(all).toMatch(/==> gateway run\n[\s\S]*unreachable/);
    // A piece of a sentinel is a leak too (a parser's error quotes a few characters around a mistake):
    // every 10 characters of it that no other sentinel shares.
    const sentinels: string[] = Object.values(SENTINELS);
    const pieces = (secret: string) =>
      [...secret]
        .map((_, k) => secret.slice(k, k + 10))
        .filter((p) => p.length === 10 && !sentinels.some((other) => other !== secret && other.includes(p)));
    const leaks: string[] = [];
    for (const secret of [...Object.values(SENTINELS), ...profileSecrets()])
      for (const { what, text } of outputs) {
        const piece = (sentinels.includes(secret) ? pieces(secret) : [secret]).find((p) => text.includes(p));
        if (piece) leaks.push(`${what} printed the secret '${secret.slice(0, 6)}…' (${piece})`);
      }
    expect(leaks).toEqual([]);
    expect(codes.get('alertmanager config, bad setting')).toBe(2);
    expect(codes.get('gateway, bad file')).not.toBe(0);
  }, 300_000);
});
