// The platform monitor: one small process whose /metrics Prometheus scrapes for what ingest's own
// metrics cannot say (ops/monitor/README.md). Every value is measured when scraped.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Gauge, Registry } from 'prom-client';
import { configOrExit } from '../../lib/config';
import { createPool } from '../../lib/db';
import { InfluxClient } from '../../lib/influx/client';
import { createLogger } from '../../lib/logger';
import { readJobRuns, recordJobRun, WATCHDOG_JOB } from '../../lib/job-runs';
import { buildInfo, registerBuildInfo } from '../../lib/version';
import { readMonitorConfig, WATCHDOG_PATH } from './config';
import { webhookRelay } from './relay';
import { backupTimes, billingHealth, certificateExpiry, diskSpace, influxUp, postgresUp, tcpReachable } from './probes';

const config = configOrExit(() => readMonitorConfig(process.env));
const log = createLogger('monitor');
const pool = createPool({ connectionString: config.databaseUrl, max: 2, connectionTimeoutMillis: 3000 }); // the next scrape reports PostgreSQL away
const influx = new InfluxClient({ ...config.influx, requestTimeoutMs: 3000 });
const registry = new Registry();
registerBuildInfo(registry, 'monitor');
const gauge = (name: string, help: string, labelNames: string[] = []) =>
  new Gauge({ name, help, labelNames, registers: [registry] });

const up = gauge('solar_dependency_up', '1 when the dependency answers', ['dependency']);
const diskFree = gauge(
  'solar_data_disk_free_bytes',
  'Bytes available to the platform on the data directory’s file system',
);
const diskSize = gauge('solar_data_disk_size_bytes', 'Size of the data directory’s file system');
const backupSuccess = gauge('solar_backup_last_success_timestamp_seconds', 'When the last backup succeeded (0: never)');
const backupFailure = gauge('solar_backup_last_failure_timestamp_seconds', 'When the last backup failed (0: never)');
const billingRun = gauge('solar_billing_last_run_timestamp_seconds', 'When billing last computed a month (0: never)');
const closeOverdue = gauge('solar_billing_close_overdue', '1 while the previous month is open past its closing day');
const unpaid = gauge('solar_billing_unpaid_batches', 'Payout batches created and not marked paid for too long');
const billingKnown = gauge('solar_billing_health_known', '1 when billing’s state could be read');
// Labelled `name`: Prometheus gives every scraped series its own `job` label (the scrape job).
const jobSuccess = gauge('solar_job_last_success_timestamp_seconds', 'When a periodic job last succeeded (0: never)', [
  'name',
]);
const jobFailure = gauge('solar_job_last_failure_timestamp_seconds', 'When a periodic job last failed (0: never)', [
  'name',
]);
const jobInterval = gauge('solar_job_interval_seconds', 'How often a periodic job runs', ['name']);
const jobsKnown = gauge('solar_jobs_known', '1 when the periodic jobs’ runs could be read');
const certificate = gauge('solar_certificate_expiry_timestamp_seconds', 'When a watched TLS certificate expires', [
  'file',
]);
const certificateReadable = gauge('solar_certificate_readable', '1 when a watched certificate file parses', ['file']);

async function measure(): Promise<void> {
  const [pgUp, ixUp, mqUp] = await Promise.all([postgresUp(pool), influxUp(influx), tcpReachable(config.mqttUrl)]);
  up.labels('postgres').set(pgUp ? 1 : 0);
  up.labels('influxdb').set(ixUp ? 1 : 0);
  up.labels('mosquitto').set(mqUp ? 1 : 0);
  const disk = diskSpace(config.dataDir);
  diskFree.set(disk.freeBytes);
  diskSize.set(disk.sizeBytes);
  const backups = backupTimes(config.backupDir);
  backupSuccess.set(backups.lastSuccess);
  backupFailure.set(backups.lastFailure);
  try {
    const billing = await billingHealth(pool, config.closeDay, config.unpaidAfterDays);
    billingRun.set(billing.lastRun);
    closeOverdue.set(billing.closeOverdue ? 1 : 0);
    unpaid.set(billing.unpaidBatches);
    billingKnown.set(1);
  } catch {
    billingKnown.set(0);
  }
  try {
    const runs = await readJobRuns(pool);
    for (const g of [jobSuccess, jobFailure, jobInterval]) g.reset(); // a job removed from job_runs leaves
    for (const run of runs) {
      jobSuccess.labels(run.job).set(run.lastSuccess);
      jobFailure.labels(run.job).set(run.lastFailure);
      jobInterval.labels(run.job).set(run.intervalSeconds);
    }
    jobsKnown.set(1);
  } catch {
    jobsKnown.set(0);
  }
  for (const file of config.certificateFiles) {
    try {
      certificate.labels(file).set(certificateExpiry(file));
      certificateReadable.labels(file).set(1);
    } catch {
      certificateReadable.labels(file).set(0);
    }
  }
}

/** Alertmanager's Watchdog arrived (rules.yml, solar-watchers): its arrival is recorded as a run. */
function watchdog(request: IncomingMessage, response: ServerResponse): void {
  let body = '';
  request.setEncoding('utf8');
  request.on('data', (chunk: string) => {
    if (body.length < 1_000_000) body += chunk;
  });
  request.on('end', () => {
    let firing = false;
    try {
      const notification = JSON.parse(body) as { alerts?: { status?: string; labels?: Record<string, string> }[] };
      firing = (notification.alerts ?? []).some((a) => a.status === 'firing' && a.labels?.alertname === 'Watchdog');
    } catch {
      // not a notification: answered 400 below
    }
    if (!firing) {
      response.writeHead(400).end();
      return;
    }
    void recordJobRun(pool, WATCHDOG_JOB, config.watchdogIntervalSeconds, true).then(() =>
      response.writeHead(200).end(),
    );
  });
}

const relay = webhookRelay(config.webhookUrls, config.webhookTimeoutMs, log);
const server = createServer((request, response) => {
  if (relay(request, response)) return;
  if (request.method === 'POST' && request.url === WATCHDOG_PATH) return watchdog(request, response);
  if (request.url === '/healthz') {
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ status: 'ok', ...buildInfo() }));
    return;
  }
  if (request.url !== '/metrics') {
    response.writeHead(404).end();
    return;
  }
  measure()
    .then(() => registry.metrics())
    .then((text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text))
    .catch((error: unknown) => {
      log.error({ err: error }, 'monitor: measuring failed');
      response.writeHead(500).end();
    });
});
server.listen(config.port, '127.0.0.1', () => log.info({ port: config.port }, 'monitor listening'));
const stop = () => server.close(() => void pool.end().finally(() => process.exit(0)));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
