// `npm start` once setup has run (ops/start.sh: setup, the run profile's environment, then this):
// ingest, the demo seed (once), the first admin, the API, the demo fleet, billing's scheduler, the
// alerts job and the monitor, in the foreground until Ctrl-C, each logging to .data/run/logs/.
// Children are stopped by PID; the databases and broker keep running (`npm run services stop`).
// A platform process that exits on its own stops them all (ops/supervisor.ts).
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StartFailed, Supervisor, step } from './supervisor';

const env = process.env;
function setting(name: string): string {
  const value = env[name];
  if (value) return value;
  console.error(`error: ${name} is not set: run npm start (ops/start.sh), not this file`);
  process.exit(2);
}
const dataDir = setting('SOLAR_DATA_DIR');
const ingestPort = setting('INGEST_HTTP_PORT');
const logDir = join(dataDir, 'logs');
// Prometheus scrapes the worker while it runs (Ingest health dashboard); a stopped one's file goes.
const ingestTarget = join(setting('PROMETHEUS_TARGETS_DIR'), 'ingest-1.json');
const node = (...args: string[]) => [process.execPath, '--import', 'tsx', ...args];

const supervisor = new Supervisor({
  logDir,
  stopping:
    'Stopping ingest, the API, billing, alerts and the fleet (the services keep running: npm run services stop)',
  cleanup: () => rmSync(ingestTarget, { force: true }),
});

/** Whether ingest answers its health check within 20 s. */
async function ingestHealthy(): Promise<boolean> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const ok = await fetch(`http://127.0.0.1:${ingestPort}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

try {
  step('Starting the platform');
  supervisor.start('ingest', node('ingest/src/main.ts'));
  if (!(await ingestHealthy())) throw new StartFailed(`ingest did not become healthy; see ${logDir}/ingest.log`);
  writeFileSync(ingestTarget, `[{"targets": ["127.0.0.1:${ingestPort}"], "labels": {"worker": "1"}}]\n`);

  step('Demo program (seeded once: people, shares, three billed months through the simulator)');
  await supervisor.run(
    node('demo/src/cli.ts', 'seed', '--installations', env.FLEET_INVERTERS || '200'),
    `the demo seed failed (see above; ingest's log: ${logDir}/ingest.log)`,
  );
  // The history's hourly and daily rollups (dashboards) fill in the background, once; it ends by itself.
  supervisor.helper('demo-rollups', node('demo/src/cli.ts', 'rollups'));
  await supervisor.run(
    node('ops/cli.ts', 'first-admin', '--password-file', join(dataDir, 'first-admin-password')),
    'the first staff admin could not be made (see above)',
    { indent: true },
  );
  supervisor.start('api', [process.execPath, '--max-semi-space-size=64', '--import', 'tsx', 'api/src/server.ts']);
  const scenario = join(dataDir, 'demo/fleet.json');
  const interval = env.FLEET_INTERVAL_S || '10';
  supervisor.start(
    'fleet',
    node(
      'simulators/src/cli.ts',
      'fleet',
      '--scenario',
      scenario,
      '--interval',
      interval,
      '--provision',
      '--continue-counters',
    ),
  );
  // After the seed: the scheduler's catch-up draft at start sees the whole registry.
  supervisor.start('billing', node('billing/src/cli.ts', 'schedule'));
  supervisor.start('alerts', node('alerts/src/cli.ts', 'run'));
  // The platform's own health for Prometheus' rules (ops/monitor/README.md).
  supervisor.start('monitor', node('ops/monitor/main.ts'));
  // The services' and these processes' logs stay bounded while the platform runs (ops/rotate-logs.sh).
  supervisor.every(3_600_000, ['bash', 'ops/rotate-logs.sh']);

  step('Running (Ctrl-C to stop)');
  await supervisor.run(['bash', 'ops/welcome.sh'], 'ops/welcome.sh failed (see above)');
} catch (error) {
  await supervisor.fail(error instanceof StartFailed ? error.message : String((error as Error).stack ?? error));
}
