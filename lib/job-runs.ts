// Periodic jobs say when they last succeeded and failed (table job_runs), with the interval they
// run at, so the monitor can tell a job that stopped or keeps failing from one with nothing to do:
// the alerts job evaluates every 5 minutes whether or not it finds anything, and nothing else in
// the database says it ran (ops/monitor/README.md, the JobStale alerts). Times are UTC, as Prisma
// stores them.
import type pg from 'pg';

/**
 * The arrivals of Alertmanager's Watchdog at the monitor, recorded as runs: the heartbeat of
 * Prometheus and Alertmanager, which the alerts job watches (alerts/src/watchers.ts).
 */
export const WATCHDOG_JOB = 'alertmanager-watchdog';

export interface JobRunsDb {
  query(text: string, values?: unknown[]): Promise<unknown>;
}

/** Records one run's outcome. Never throws: a job must not fail because its heartbeat could not be written
 * (PostgreSQL away); the missing heartbeat is what raises the alert. */
export async function recordJobRun(db: JobRunsDb, job: string, intervalSeconds: number, ok: boolean): Promise<void> {
  await db
    .query(
      `INSERT INTO job_runs (job, interval_seconds, last_success_at, last_failure_at, updated_at)
       VALUES ($1, $2, CASE WHEN $3 THEN now() AT TIME ZONE 'UTC' END, CASE WHEN $3 THEN NULL ELSE now() AT TIME ZONE 'UTC' END, now() AT TIME ZONE 'UTC')
       ON CONFLICT (job) DO UPDATE SET interval_seconds = EXCLUDED.interval_seconds,
         last_success_at = coalesce(EXCLUDED.last_success_at, job_runs.last_success_at),
         last_failure_at = coalesce(EXCLUDED.last_failure_at, job_runs.last_failure_at),
         updated_at = EXCLUDED.updated_at`,
      [job, intervalSeconds, ok],
    )
    .catch(() => undefined);
}

/** Runs `work` and records its outcome as a run of `job`; the work's error is passed on. */
export async function recordedRun<T>(
  db: JobRunsDb,
  job: string,
  intervalSeconds: number,
  work: () => Promise<T>,
): Promise<T> {
  try {
    const result = await work();
    await recordJobRun(db, job, intervalSeconds, true);
    return result;
  } catch (error) {
    await recordJobRun(db, job, intervalSeconds, false);
    throw error;
  }
}

export interface JobRun {
  job: string;
  intervalSeconds: number;
  /** Seconds since the epoch, 0 for never. */
  lastSuccess: number;
  lastFailure: number;
}
/** Each periodic job's last success and failure (lib/job-runs.ts; times stored in UTC). */
export async function readJobRuns(db: pg.Pool): Promise<JobRun[]> {
  const { rows } = await db.query<{ job: string; every: number; success: number | null; failure: number | null }>(
    `SELECT job, interval_seconds AS every, extract(epoch FROM last_success_at)::float8 AS success,
            extract(epoch FROM last_failure_at)::float8 AS failure
       FROM job_runs ORDER BY job`,
  );
  return rows.map((r) => ({
    job: r.job,
    intervalSeconds: r.every,
    lastSuccess: r.success ?? 0,
    lastFailure: r.failure ?? 0,
  }));
}

/** Seconds since `job` last succeeded, by the database's clock; null if it never did. */
export async function secondsSinceSuccess(db: pg.Pool, job: string): Promise<number | null> {
  const { rows } = await db.query<{ age: number | null }>(
    `SELECT extract(epoch FROM (now() AT TIME ZONE 'UTC') - last_success_at)::float8 AS age FROM job_runs WHERE job = $1`,
    [job],
  );
  return rows[0]?.age ?? null;
}
