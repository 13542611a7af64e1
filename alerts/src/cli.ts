// Alerts from the command line:  npm run alerts -- <command> (`--help` on each)
import { command, instant, main, type Parsed } from '../../lib/cli';
import { createPool } from '../../lib/db';
import { InfluxClient } from '../../lib/influx/client';
import { createLogger } from '../../lib/logger';
import { readAlertsConfig } from './config';
import { AlertsEvaluator } from './evaluator';
import { Deliverer } from './notify';
import { startAlerts } from './scheduler';

/** The settings, a pool, the evaluator and the deliverer; one-off commands log warnings only. */
function setUp(logLevel?: string) {
  const config = readAlertsConfig(process.env);
  const logger = createLogger('alerts', logLevel ?? config.logLevel);
  const pool = createPool({ connectionString: config.databaseUrl, max: 4 }, logger);
  const evaluator = new AlertsEvaluator(pool, new InfluxClient(config.influx), config, logger);
  const deliverer = new Deliverer(pool, config.notifications, logger);
  return { config, logger, pool, evaluator, deliverer };
}

async function once(work: (s: ReturnType<typeof setUp>) => Promise<unknown>): Promise<void> {
  const s = setUp(process.env.LOG_LEVEL ?? 'warn');
  try {
    console.log(JSON.stringify(await work(s)));
  } finally {
    s.deliverer.close();
    await s.pool.end();
  }
}

const EVALUATE_OPTIONS = { at: { type: 'string' } } as const;

await main({
  invocation: 'npm run alerts --',
  commands: {
    run: command({
      summary: 'the scheduled job: evaluate and deliver notifications until stopped',
      help: `Usage: npm run alerts -- run

Evaluates every ALERTS_INTERVAL_SECONDS and delivers notifications every
ALERTS_DELIVERY_INTERVAL_SECONDS, until Ctrl-C.`,
      run: () => {
        const { evaluator, deliverer, config, logger, pool } = setUp();
        const stop = startAlerts(evaluator, deliverer, config, logger, pool);
        const shutdown = () => {
          stop();
          deliverer.close();
          void pool.end().then(() => process.exit(0));
        };
        process.once('SIGINT', shutdown);
        process.once('SIGTERM', shutdown);
      },
    }),
    evaluate: command({
      summary: 'one evaluation now (or as if at a given time), then print what changed',
      help: `Usage: npm run alerts -- evaluate [--at TIME]

One evaluation, then prints what changed as JSON.

  --at TIME   evaluate as if at this RFC 3339 time (default: now)`,
      options: EVALUATE_OPTIONS,
      run: ({ values }: Parsed<typeof EVALUATE_OPTIONS>) => {
        const at = instant(values.at, 'at', Date.now());
        return once(({ evaluator }) => evaluator.evaluateOnce(at));
      },
    }),
    deliver: command({
      summary: 'send the notifications that are due, once',
      help: 'Usage: npm run alerts -- deliver\n\nSends the notifications that are due, once, and prints what happened as JSON.',
      run: () => once(({ deliverer }) => deliverer.deliverDue()),
    }),
  },
});
