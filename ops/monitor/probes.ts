// What the platform's own health is made of, each read fresh on every scrape: are PostgreSQL,
// InfluxDB and the broker reachable, how full is the data disk, how old is the last backup, is
// billing on schedule, when do the TLS certificates expire (each periodic job's runs: lib/job-runs.ts).
import { X509Certificate } from 'node:crypto';
import { readFileSync, statfsSync } from 'node:fs';
import { connect } from 'node:net';
import type pg from 'pg';
import { ledgerProgress } from '../../billing';
import { monthBounds, monthOf, previousMonth } from '../../lib/program/solar-hijri';
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
  const progress = await ledgerProgress(pool, previousMonth(month), unpaidAfterDays);
  return {
    lastRun: progress.lastComputedAt ? progress.lastComputedAt.getTime() / 1000 : 0,
    // A day's grace after the closing day: the scheduler closes on that day's run.
    closeOverdue: day > closeDay + 1 && (progress.monthStatus ?? 'DRAFT') === 'DRAFT',
    unpaidBatches: progress.unpaidBatches,
  };
}

/** Each certificate file's expiry (seconds since the epoch), or an error for a file that is not one. */
export function certificateExpiry(file: string): number {
  const certificate = new X509Certificate(readFileSync(file));
  return Date.parse(certificate.validTo) / 1000;
}
