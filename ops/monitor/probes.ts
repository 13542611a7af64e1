// What the platform's own health is made of, each read fresh on every scrape: are PostgreSQL,
// InfluxDB and the broker reachable, how full is the data disk, how old is the last backup, is
// billing on schedule, when do the TLS certificates expire (each periodic job's runs: lib/job-runs.ts).
import { X509Certificate } from 'node:crypto';
import { readFileSync, statfsSync } from 'node:fs';
import { connect } from 'node:net';
import type pg from 'pg';
import { monthBounds, monthOf, previousMonth } from '../../billing';
import type { InfluxClient } from '../../lib/influx/client';
import { readBackupStatus } from '../backup/commands';

export function tcpReachable(url: string, timeoutMs = 3000): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port), timeout: timeoutMs });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

export async function postgresUp(pool: pg.Pool): Promise<boolean> {
  try {
    await pool.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
}

export const influxUp = (influx: InfluxClient) => influx.ping();

export function diskSpace(path: string): { freeBytes: number; sizeBytes: number } {
  const s = statfsSync(path);
  return { freeBytes: s.bavail * s.bsize, sizeBytes: s.blocks * s.bsize };
}

const seconds = (iso: string | undefined) => (iso ? Date.parse(iso) / 1000 : 0);
export function backupTimes(backupDir: string): { lastSuccess: number; lastFailure: number } {
  const status = readBackupStatus(backupDir);
  return { lastSuccess: seconds(status.lastSuccessAt), lastFailure: seconds(status.lastFailureAt) };
}

export interface BillingHealth {
  /** When billing last computed any month (the scheduler drafts the running month daily). */
  lastRun: number;
  /** The previous month is not closed although its closing day has passed. */
  closeOverdue: boolean;
  /** Payout batches created but not marked paid for more than `unpaidAfterDays`. */
  unpaidBatches: number;
}
export async function billingHealth(
  pool: pg.Pool,
  closeDay: number,
  unpaidAfterDays: number,
  now = Date.now(),
): Promise<BillingHealth> {
  const month = monthOf(now);
  const day = Math.floor((now - monthBounds(month).startMs) / 86_400_000) + 1;
  const { rows } = await pool.query<{ last_run: Date | null; previous_status: string | null; unpaid: string }>(
    `SELECT (SELECT max(computed_at) FROM billing_months) AS last_run,
            (SELECT status::text FROM billing_months WHERE month = $1) AS previous_status,
            (SELECT count(*) FROM payout_batches WHERE status = 'CREATED' AND created_at < now() - make_interval(days => $2)) AS unpaid`,
    [previousMonth(month), unpaidAfterDays],
  );
  const row = rows[0];
  return {
    lastRun: row?.last_run ? row.last_run.getTime() / 1000 : 0,
    // A day's grace after the closing day: the scheduler closes on that day's run.
    closeOverdue: day > closeDay + 1 && (row?.previous_status ?? 'DRAFT') === 'DRAFT',
    unpaidBatches: Number(row?.unpaid ?? 0),
  };
}

/** Each certificate file's expiry (seconds since the epoch), or an error for a file that is not one. */
export function certificateExpiry(file: string): number {
  const certificate = new X509Certificate(readFileSync(file));
  return Date.parse(certificate.validTo) / 1000;
}
