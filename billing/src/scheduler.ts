// The daily billing job on node-cron (Tehran time): drafts the current month, closes the previous
// one from the configured day on. A refused run (another run in progress) is logged and retried
// the next day; it never stops the scheduler. It also runs once at start, to catch up after a restart.
import cron, { type ScheduledTask } from 'node-cron';
import { TEHRAN_TIME_ZONE } from '../../lib/program/tehran-time';
import { scheduledActions } from './core/schedule';
import { previousMonth, monthOf } from '../../lib/program/solar-hijri';
import { monthStatus, runMonth, type BillingDeps } from './run-month';

export async function runScheduledActions(deps: BillingDeps, closeDay: number): Promise<void> {
  const now = deps.now?.() ?? Date.now();
  const db = await deps.pool.connect();
  let previousStatus: Awaited<ReturnType<typeof monthStatus>>;
  try {
    previousStatus = await monthStatus(db, previousMonth(monthOf(now)));
  } finally {
    db.release();
  }
  for (const action of scheduledActions(now, closeDay, previousStatus)) {
    try {
      await runMonth(deps, action.month, { close: action.kind === 'close', actor: 'scheduler' });
    } catch (error) {
      deps.log.error({ err: error, action }, `billing: scheduled ${action.kind} of ${action.month} failed`);
    }
  }
}

/** Runs the job once now (catching up after a restart), then on the cron schedule. */
export function startScheduler(deps: BillingDeps, options: { draftCron: string; closeDay: number }): ScheduledTask {
  deps.log.info(
    { draftCron: options.draftCron, closeDay: options.closeDay },
    `billing scheduler started (${TEHRAN_TIME_ZONE}); running once now`,
  );
  void runScheduledActions(deps, options.closeDay).catch((error: unknown) =>
    deps.log.error({ err: error }, 'billing: scheduled run failed'),
  );
  return cron.schedule(options.draftCron, () => runScheduledActions(deps, options.closeDay), {
    timezone: TEHRAN_TIME_ZONE,
    noOverlap: true,
    name: 'billing',
  });
}
