// The demo program from the command line:  npm run demo -- seed [--installations N]
// npm start runs it after ingest is up; once seeded, it returns in a moment.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { configOrExit, readInfluxConfig, readMqttConfig } from '../../lib/config';
import { readBillingConfig } from '../../billing';
import { AlertsEvaluator, readAlertsConfig } from '../../alerts';
import { readIngestConfig } from '../../ingest';
import { InfluxClient } from '../../lib/influx/client';
import { createLogger } from '../../lib/logger';
import { ensureFleetAccount, fleetAccountNote } from '../../lib/mqtt/service-accounts';
import { hashSecret } from '../../lib/passwords';
import { MIN_INSTALLATIONS } from './plan';
import { rebuildDemoRollups, seedDemo } from './seed';

const USAGE = `Usage: npm run demo -- seed [options] | rollups

seed: seeds the run profile once with a demo program: installations, people, shares, contracts and loans,
three months of history through the simulator, broker and ingest (billed, closed, the oldest paid)
and a draft of the running month to date. Ingest must be running. A seeded profile is skipped.

  --installations N   how many installations (default FLEET_INVERTERS, else 200; at least ${MIN_INSTALLATIONS})
  --interval S        seconds between the history's readings (default 900, a datalogger's quarter hour)

rollups: fills InfluxDB's hourly and daily rollups over the seeded history, once (npm start runs it
in the background after the seed).`;

const fail = (message: string): never => {
  console.error(`error: ${message}`);
  process.exit(2);
};
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    installations: { type: 'string' },
    interval: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
const command = positionals[0];
if (values.help || (command !== 'seed' && command !== 'rollups')) {
  console.log(USAGE);
  process.exit(values.help ? 0 : 2);
}
// The restore drill (ops/backup) seeds its own throw-away profile the same way.
if (process.env.SOLAR_PROFILE !== 'run' && process.env.SOLAR_PROFILE !== 'drill')
  fail(`the demo program belongs to the run profile (npm start), not '${process.env.SOLAR_PROFILE ?? ''}'`);
const positive = (text: string | undefined, name: string, fallback: number) => {
  const n = Number(text ?? fallback);
  if (!Number.isInteger(n) || n <= 0) fail(`${name} must be a positive integer, got '${text}'`);
  return n;
};
const installations = positive(values.installations ?? process.env.FLEET_INVERTERS, '--installations', 200);
if (installations < MIN_INSTALLATIONS) fail(`--installations must be at least ${MIN_INSTALLATIONS}`);
const intervalSeconds = positive(values.interval, '--interval', 900);

const billing = configOrExit(() => readBillingConfig(process.env));
const fleetMqtt = configOrExit(() => readMqttConfig(process.env, 'FLEET'));
const ingest = configOrExit(() => readIngestConfig(process.env));
const dir = join(process.env.SOLAR_DATA_DIR ?? '.data/run', 'demo');
mkdirSync(dir, { recursive: true });
const pool = new pg.Pool({ connectionString: billing.databaseUrl, max: 4 });
const progress = (line: string) => console.log(`    ${line}`);
try {
  if (command === 'rollups') {
    // SELECT ... INTO the rollups needs the admin (the reader cannot write, the writer cannot read).
    // A month's rebuild takes minutes: billing's long timeout (BILLING_INFLUX_TIMEOUT_MS), not the default 10 s.
    const admin = configOrExit(() => readInfluxConfig(process.env, 'ADMIN'));
    const influx = new InfluxClient({ ...admin, requestTimeoutMs: billing.influx.requestTimeoutMs });
    const outcome = await rebuildDemoRollups({ pool, influx, progress });
    if (outcome !== 'rebuilt')
      progress(`rollups: ${outcome === 'done before' ? 'rebuilt before' : 'no demo program yet'}`);
  } else {
    // The history's alerts are evaluated as the alerts job would have, and notify nobody: they are the past.
    const alertsConfig = configOrExit(() => readAlertsConfig(process.env));
    const log = createLogger('demo', process.env.LOG_LEVEL ?? 'warn');
    const alerts = new AlertsEvaluator(
      pool,
      new InfluxClient(alertsConfig.influx),
      { ...alertsConfig, notifications: { ...alertsConfig.notifications, emailTo: [], webhookUrls: [] } },
      log,
    );
    const result = await seedDemo(
      {
        pool,
        alerts,
        influx: new InfluxClient(billing.influx),
        billing,
        fleetMqtt,
        ensureFleetAccount: async () => progress(fleetAccountNote(process.env, await ensureFleetAccount(process.env))),
        hashPin: hashSecret,
        ingestHealthUrl: `http://127.0.0.1:${ingest.httpPort}/healthz`,
        log,
        progress,
      },
      { installations, intervalSeconds, fleetFile: join(dir, 'fleet.json'), loginsFile: join(dir, 'logins.json') },
    );
    progress(
      result.skipped
        ? `demo program: already seeded (${result.installations} installations); skipped in ${result.seconds.toFixed(1)} s`
        : `demo program: seeded in ${result.seconds.toFixed(0)} s`,
    );
  }
} catch (error) {
  fail((error as Error).message);
} finally {
  await pool.end();
}
