// Alerts from the command line:  npm run alerts -- <command>
import { parseArgs } from 'node:util';
import pg from 'pg';
import { configOrExit } from '../../lib/config';
import { InfluxClient } from '../../lib/influx/client';
import { createLogger } from '../../lib/logger';
import { readAlertsConfig } from './config';
import { AlertsEvaluator } from './evaluator';
import { Deliverer } from './notify';
import { startAlerts } from './scheduler';

const USAGE = `Usage: npm run alerts -- <command> [options]

Commands:
  run                    the scheduled job: evaluate every ALERTS_INTERVAL_SECONDS, deliver
                         notifications every ALERTS_DELIVERY_INTERVAL_SECONDS (until Ctrl-C)
  evaluate [--at TIME]   one evaluation now (or as if at an RFC 3339 TIME), then print what changed
  deliver                send the notifications that are due, once`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { at: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});
const [command] = positionals;
if (values.help || !command || !['run', 'evaluate', 'deliver'].includes(command)) {
  console.log(USAGE);
  process.exit(values.help ? 0 : 2);
}
const at = values.at === undefined ? Date.now() : Date.parse(values.at);
if (Number.isNaN(at)) {
  console.error(`error: --at '${values.at}' is not an RFC 3339 time`);
  process.exit(2);
}

const config = configOrExit(() => readAlertsConfig(process.env));
const logger = createLogger('alerts', command === 'run' ? config.logLevel : (process.env.LOG_LEVEL ?? 'warn'));
const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 4 });
const evaluator = new AlertsEvaluator(pool, new InfluxClient(config.influx), config, logger);
const deliverer = new Deliverer(pool, config.notifications, logger);

if (command === 'run') {
  const stop = startAlerts(evaluator, deliverer, config, logger);
  const shutdown = () => {
    stop();
    deliverer.close();
    void pool.end().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
} else {
  try {
    if (command === 'evaluate') console.log(JSON.stringify(await evaluator.evaluateOnce(at)));
    else console.log(JSON.stringify(await deliverer.deliverDue()));
  } finally {
    deliverer.close();
    await pool.end();
  }
}
