// The alerts job in the platform: evaluates every ALERTS_INTERVAL_SECONDS and delivers queued
// notifications every ALERTS_DELIVERY_INTERVAL_SECONDS. A run never overlaps the previous one; a
// failed run is logged and the next one tries again. Each run is recorded in job_runs, so a job
// that stopped or keeps failing raises the platform's alerts (AlertsJobStale, JobFailing); and it
// watches Prometheus and Alertmanager in turn (watchers.ts).
import type pg from 'pg';
import { recordedRun } from '../../lib/job-runs';
import type { Logger } from '../../lib/logger';
import type { AlertsEvaluator } from './evaluator';
import type { Deliverer } from './notify';
import { WatchersCheck } from './watchers';

function every(seconds: number, name: string, logger: Logger, job: () => Promise<unknown>): () => void {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      await job();
    } catch (error) {
      logger.error({ err: error }, `alerts: ${name} failed`);
    } finally {
      running = false;
    }
  };
  void tick();
  const timer = setInterval(tick, seconds * 1000);
  return () => clearInterval(timer);
}

export function startAlerts(
  evaluator: AlertsEvaluator,
  deliverer: Deliverer,
  options: { intervalSeconds: number; deliveryIntervalSeconds: number; watchdogStaleSeconds: number },
  logger: Logger,
  db: pg.Pool,
): () => void {
  // Only the schedule: the rest of the configuration holds URLs with passwords and bot tokens.
  logger.info(
    { intervalSeconds: options.intervalSeconds, deliveryIntervalSeconds: options.deliveryIntervalSeconds },
    'alerts started',
  );
  const stops = [
    every(options.intervalSeconds, 'evaluation', logger, () =>
      recordedRun(db, 'alerts-evaluation', options.intervalSeconds, () => evaluator.evaluateOnce()),
    ),
    every(options.deliveryIntervalSeconds, 'delivery', logger, () =>
      recordedRun(db, 'alerts-delivery', options.deliveryIntervalSeconds, () => deliverer.deliverDue()),
    ),
  ];
  // Prometheus and Alertmanager watched from here, as often as notifications go out (watchers.ts).
  if (options.watchdogStaleSeconds > 0) {
    const watchers = new WatchersCheck(db, deliverer, options.watchdogStaleSeconds, logger);
    stops.push(every(options.deliveryIntervalSeconds, 'watchers check', logger, () => watchers.check()));
  }
  return () => {
    for (const stop of stops) stop();
  };
}
