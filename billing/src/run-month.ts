// Runs a billing month against the real services: reads the registry (PostgreSQL) and the counters
// (InfluxDB), bills it with the pure core, and writes the ledger in one transaction.
//  - A draft is replaced by every run; `close` runs it once more and freezes it (triggers refuse any
//    later change). Late data for a closed month becomes an adjustment in the month being run.
//  - One run at a time: a second concurrent run (of any month) is refused, not queued.
import type pg from 'pg';
import type { Logger } from 'pino';
import type { InfluxClient } from '../../lib/influx/client';
import { writeAudit } from '../../lib/audit';
import { inTransaction } from '../../lib/transaction';
import { billMonth, type InstallationInput, type MonthTotals } from './core/bill-month';
import { monthBounds, monthDays, type MonthId, parseMonth } from '../../lib/program/solar-hijri';
import type { BillingConfig } from './config';
import { BillingError } from './errors';
import { energyByInstallation, splitInstantsOf } from './installation-energy';
import { lateDataAdjustments } from './late-data';
import { writeLedger } from './ledger-writer';
import { loadCounterEvidence, loadProgramSnapshot } from './program-snapshot';
import { settlementAdjustments } from './settlements/settlement-adjustments';
import { queueMonthSms } from './sms/outbox';

export interface BillingDeps {
  pool: pg.Pool;
  influx: InfluxClient;
  config: Pick<BillingConfig, 'rules' | 'adjustmentMonths' | 'lookaroundDays' | 'settlements'>;
  log: Logger;
  now?: () => number;
}

export interface RunSummary {
  month: MonthId;
  status: 'DRAFT' | 'CLOSED';
  digest: string;
  totals: MonthTotals;
  /** The instant a running month was billed to, or null once it has ended. */
  toDateAt: number | null;
  adjustments: number;
  seconds: number;
  phases: Record<string, number>;
}

/** Held for the whole run: billing runs never overlap. */
const BILLING_LOCK_KEY = 7_405_080;

/**
 * Takes the billing lock, then runs `work` in a new transaction, or refuses because another run holds
 * the lock. The lock is the connection's, taken before BEGIN: a REPEATABLE READ transaction's snapshot
 * is taken by its first statement, so a lock taken inside it could be granted just after another run
 * committed, to a snapshot that does not see that run (a month it closed read as a draft, its rows
 * then a serialization failure). The connection closing (a crash) releases the lock too.
 */
export async function withBillingLock<T>(pool: pg.Pool, work: (db: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let holdsLock = false; // a connection that may still hold it is closed, never returned to the pool
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
      BILLING_LOCK_KEY,
    ]);
    if (!rows[0]!.locked)
      throw new BillingError('busy', 'another billing run is in progress; try again when it has finished');
    holdsLock = true;
    try {
      return await inTransaction(client, work, { isolation: 'REPEATABLE READ' });
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [BILLING_LOCK_KEY]).then(
        () => {
          holdsLock = false;
        },
        () => undefined,
      );
    }
  } finally {
    client.release(holdsLock);
  }
}

export async function monthStatus(db: pg.ClientBase, month: MonthId): Promise<'DRAFT' | 'CLOSED' | 'PAID' | null> {
  const { rows } = await db.query<{ status: 'DRAFT' | 'CLOSED' | 'PAID' }>(
    'SELECT status FROM billing_months WHERE month = $1',
    [month],
  );
  return rows[0]?.status ?? null;
}

export async function runMonth(
  deps: BillingDeps,
  month: MonthId,
  options: { close?: boolean; actor: string },
): Promise<RunSummary> {
  parseMonth(month);
  const started = performance.now();
  const bounds = monthBounds(month);
  const now = deps.now?.() ?? Date.now();
  if (now < bounds.startMs)
    throw new BillingError(
      'not_started',
      `${month} has not started yet: it begins at ${new Date(bounds.startMs).toISOString()}`,
    );
  if (options.close && now < bounds.endMs)
    throw new BillingError(
      'not_ended',
      `${month} ends at ${new Date(bounds.endMs).toISOString()}: until then it is billed to date, as a draft, and cannot be closed`,
    );
  return withBillingLock(deps.pool, async (db) => {
    const status = await monthStatus(db, month);
    if (status === 'CLOSED' || status === 'PAID')
      throw new BillingError(
        'closed',
        `${month} is ${status.toLowerCase()}: it can no longer change (corrections are adjustments in an open month)`,
      );
    if (options.close) {
      const { rows } = await db.query<{ month: string }>(
        `SELECT month FROM billing_months WHERE status = 'DRAFT' AND month < $1 ORDER BY month LIMIT 1`,
        [month],
      );
      if (rows[0])
        throw new BillingError(
          'out_of_order',
          `close ${rows[0].month} first: months close in order, so carry-overs and loan repayments build on closed months`,
        );
    }
    const phases: Record<string, number> = {};
    let mark = performance.now();
    const phase = (name: string) => {
      const t = performance.now();
      phases[name] = Number(((t - mark) / 1000).toFixed(3));
      mark = t;
    };
    const days = monthDays(month);
    const snapshot = await loadProgramSnapshot(db, month, days[0]!.date, days[days.length - 1]!.date);
    deps.log.info({ month, installations: snapshot.installations.length }, 'billing: registry read; reading counters');
    phase('registry');
    const evidence = await loadCounterEvidence(db, month);
    const energy = await energyByInstallation(deps, snapshot.installations, days, {
      ...evidence,
      splitInstants: splitInstantsOf(days, snapshot.contracts, deps.config.rules.stepDowns),
    });
    phase('counters');
    const { adjustments, held: heldLateData } = await lateDataAdjustments(deps, db, snapshot, month);
    for (const [installationId, carried] of await settlementAdjustments(db, month, deps.config.settlements))
      adjustments.set(installationId, [...(adjustments.get(installationId) ?? []), ...carried]);
    phase('adjustments');
    const inputs: InstallationInput[] = snapshot.installations.map((inst) => ({
      installationId: inst.installationId,
      code: inst.code,
      capacityW: inst.capacityW,
      days: energy.get(inst.installationId)!.days,
      trace: energy.get(inst.installationId)!.trace,
      contracts: snapshot.contracts.get(inst.installationId) ?? [],
      loans: snapshot.loans.get(inst.installationId) ?? [],
      shares: snapshot.shares.get(inst.installationId) ?? [],
      adjustments: adjustments.get(inst.installationId) ?? [],
      heldLateData: heldLateData.get(inst.installationId) ?? [],
      balanceInRials: snapshot.installationBalance.get(inst.installationId) ?? 0n,
    }));
    const toDateAt = now < bounds.endMs ? now : null;
    const billed = billMonth(
      month,
      inputs,
      snapshot.beneficiaryCarry,
      deps.config.rules,
      snapshot.continuing,
      toDateAt,
    );
    phase('compute');
    if (options.close && billed.totals.implausible > 0) {
      const held = billed.installations.filter((b) => b.implausible).map((b) => b.code);
      throw new BillingError(
        'implausible',
        `${month} cannot close: ${held.length} installation(s) read more energy than their inverters could ` +
          `produce or hold late changes to a closed month (${held.slice(0, 10).join(', ')}` +
          `${held.length > 10 ? ', …' : ''}); accept, correct or exclude those counters first`,
      );
    }
    deps.log.info({ month, ...billed.totals, adjustments: adjustments.size }, 'billing: computed; writing the ledger');
    await writeLedger(db, billed, now);
    phase('write');
    const finalStatus = options.close ? 'CLOSED' : 'DRAFT';
    if (options.close) {
      await db.query(`UPDATE billing_months SET status = 'CLOSED', closed_at = $2, closed_by = $3 WHERE month = $1`, [
        month,
        new Date(now),
        options.actor,
      ]);
      await queueMonthSms(db, month, 'STATEMENT_READY'); // with the close: both happen or neither
    }
    await writeAudit(db, {
      actor: options.actor,
      action: options.close ? 'billing.close' : 'billing.draft',
      entity: 'billing_month',
      entityId: month,
      after: { digest: billed.digest, ...billed.totals },
    });
    const summary: RunSummary = {
      month,
      status: finalStatus,
      digest: billed.digest,
      totals: billed.totals,
      toDateAt,
      adjustments: [...adjustments.values()].reduce((n, a) => n + a.length, 0),
      seconds: (performance.now() - started) / 1000,
      phases,
    };
    deps.log.info(summary, `billing: ${month} ${finalStatus.toLowerCase()}`);
    return summary;
  });
}
