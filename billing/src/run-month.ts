// Runs a billing month against the real services: reads the registry (PostgreSQL) and the counters
// (InfluxDB), bills it with the pure core, and writes the ledger in one transaction.
//  - A draft is replaced by every run; `close` runs it once more and freezes it (triggers refuse any
//    later change). Late data for a closed month becomes an adjustment in the month being run.
//  - One run at a time: a second concurrent run (of any month) is refused, not queued.
import type pg from 'pg';
import type { Logger } from 'pino';
import type { BillingConfig } from '../../lib/config';
import type { InfluxClient } from '../../lib/influx/client';
import type { Adjustment } from './core/bill-installation';
import { sumBigInt } from './core/money';
import {
  billMonth,
  toJson,
  type BilledMonth,
  type EnergyTrace,
  type InstallationInput,
  type MonthTotals,
} from './core/bill-month';
import { energyInSlots } from './core/counter-energy';
import { monthBounds, monthDays, type MonthId, parseMonth } from './core/solar-hijri';
import { priceEnergy, rateChangeDates, type ContractTerms } from './core/tariff';
import { readCounterReadings } from './counter-readings';
import { loadContracts, loadProgramSnapshot, type InstallationRecord, type ProgramSnapshot } from './program-snapshot';

export type BillingErrorCode =
  | 'busy'
  | 'closed'
  | 'not_started'
  | 'not_ended'
  | 'out_of_order'
  | 'not_found'
  | 'not_closed';
export class BillingError extends Error {
  constructor(
    readonly code: BillingErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BillingError';
  }
}

export interface BillingDeps {
  pool: pg.Pool;
  influx: InfluxClient;
  config: Pick<BillingConfig, 'rules' | 'adjustmentMonths' | 'lookaroundDays'>;
  log: Logger;
  now?: () => number;
}

export interface RunSummary {
  month: MonthId;
  status: 'DRAFT' | 'CLOSED';
  digest: string;
  totals: MonthTotals;
  adjustments: number;
  seconds: number;
  phases: Record<string, number>;
}

/** Held for the whole run (transaction-scoped): billing runs never overlap. */
const BILLING_LOCK_KEY = 7_405_080;

/** Takes the billing lock in a new transaction, or refuses because another run holds it. */
export async function withBillingLock<T>(pool: pg.Pool, work: (db: pg.PoolClient) => Promise<T>): Promise<T> {
  const db = await pool.connect();
  try {
    await db.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    const { rows } = await db.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [
      BILLING_LOCK_KEY,
    ]);
    if (!rows[0]!.locked)
      throw new BillingError('busy', 'another billing run is in progress; try again when it has finished');
    const result = await work(db);
    await db.query('COMMIT');
    return result;
  } catch (error) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    db.release();
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
      `${month} ends at ${new Date(bounds.endMs).toISOString()}: it cannot be closed before then`,
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
    const energy = await energyByInstallation(deps, snapshot.installations, [...snapshot.contracts.values()], month);
    phase('counters');
    const adjustments = await lateDataAdjustments(deps, db, snapshot, month);
    phase('adjustments');
    const inputs: InstallationInput[] = snapshot.installations.map((inst) => ({
      installationId: inst.installationId,
      code: inst.code,
      capacityW: inst.capacityW,
      days: energy.get(inst.installationId)!.days,
      trace: energy.get(inst.installationId)!.trace,
      contract: snapshot.contracts.get(inst.installationId) ?? null,
      loans: snapshot.loans.get(inst.installationId) ?? [],
      shares: snapshot.shares.get(inst.installationId) ?? [],
      adjustments: adjustments.get(inst.installationId) ?? [],
      balanceInRials: snapshot.installationBalance.get(inst.installationId) ?? 0n,
    }));
    const billed = billMonth(month, inputs, snapshot.beneficiaryCarry, deps.config.rules);
    phase('compute');
    deps.log.info({ month, ...billed.totals, adjustments: adjustments.size }, 'billing: computed; writing the ledger');
    await writeLedger(db, billed, now);
    phase('write');
    const finalStatus = options.close ? 'CLOSED' : 'DRAFT';
    if (options.close)
      await db.query(`UPDATE billing_months SET status = 'CLOSED', closed_at = $2, closed_by = $3 WHERE month = $1`, [
        month,
        new Date(now),
        options.actor,
      ]);
    await db.query(
      `INSERT INTO audit_log (actor, action, entity, entity_id, after) VALUES ($1, $2, 'billing_month', $3, $4)`,
      [
        options.actor,
        options.close ? 'billing.close' : 'billing.draft',
        month,
        toJson({ digest: billed.digest, ...billed.totals }),
      ],
    );
    const summary: RunSummary = {
      month,
      status: finalStatus,
      digest: billed.digest,
      totals: billed.totals,
      adjustments: [...adjustments.values()].reduce((n, a) => n + a.length, 0),
      seconds: (performance.now() - started) / 1000,
      phases,
    };
    deps.log.info(summary, `billing: ${month} ${finalStatus.toLowerCase()}`);
    return summary;
  });
}

/** Each installation's energy per day of the month, with the counter epochs and flags behind it. */
async function energyByInstallation(
  deps: BillingDeps,
  installations: InstallationRecord[],
  contracts: ContractTerms[],
  month: MonthId,
): Promise<Map<number, { days: { date: string; wh: number }[]; trace: EnergyTrace }>> {
  const days = monthDays(month);
  const { startMs, endMs } = monthBounds(month);
  const dates = days.map((d) => d.date);
  const changes = new Set(contracts.flatMap((c) => rateChangeDates(dates, c, deps.config.rules.stepDowns)));
  const splitInstants = days.filter((d) => changes.has(d.date)).map((d) => d.startMs);
  const provinces = [...new Set(installations.map((i) => i.provinceCode))].sort();
  const readings = await readCounterReadings(deps.influx, startMs, endMs, deps.config.lookaroundDays * 86_400_000, {
    splitInstants,
    provinces,
  });
  const out = new Map<number, { days: { date: string; wh: number }[]; trace: EnergyTrace }>();
  for (const inst of installations) {
    const dayWh = days.map(() => 0);
    const trace: EnergyTrace = {};
    for (const serial of inst.serials) {
      const energy = energyInSlots(readings.get(serial) ?? [], days);
      energy.slotWh.forEach((wh, i) => {
        dayWh[i]! += wh;
      });
      trace[serial] = { wh: energy.totalWh, epochs: energy.epochs, flags: energy.flags };
    }
    out.set(inst.installationId, { days: days.map((d, i) => ({ date: d.date, wh: dayWh[i]! })), trace });
  }
  return out;
}

/**
 * Re-reads the counters of the last closed months: what they would bill now, minus what they billed
 * and what earlier months already adjusted (drafts included: an open earlier month closes first,
 * so one correction is never carried twice), is an adjustment line in this month (invariant 4).
 */
async function lateDataAdjustments(
  deps: BillingDeps,
  db: pg.ClientBase,
  snapshot: ProgramSnapshot,
  month: MonthId,
): Promise<Map<number, Adjustment[]>> {
  const out = new Map<number, Adjustment[]>();
  if (deps.config.adjustmentMonths === 0) return out;
  const closed = await db.query<{ month: string }>(
    `SELECT month FROM billing_months WHERE status <> 'DRAFT' AND month < $1 ORDER BY month DESC LIMIT $2`,
    [month, deps.config.adjustmentMonths],
  );
  for (const { month: forMonth } of closed.rows.reverse()) {
    const billed = await db.query<{ installation_id: number; wh: string; rials: string }>(
      `SELECT installation_id, sum(wh) AS wh, sum(rials) AS rials FROM (
         SELECT installation_id, energy_wh AS wh, gross_rials AS rials FROM installation_bills WHERE month = $1
         UNION ALL
         SELECT installation_id, energy_wh, rials FROM energy_adjustments WHERE for_month = $1 AND month < $2) x GROUP BY installation_id`,
      [forMonth, month],
    );
    const before = new Map(billed.rows.map((r) => [r.installation_id, { wh: Number(r.wh), rials: BigInt(r.rials) }]));
    // Priced as that month was: with the contracts in force then.
    const forDays = monthDays(forMonth);
    const contracts = await loadContracts(db, forDays[forDays.length - 1]!.date);
    const energy = await energyByInstallation(deps, snapshot.installations, [...contracts.values()], forMonth);
    for (const inst of snapshot.installations) {
      const days = energy.get(inst.installationId)!.days;
      const now = {
        wh: days.reduce((s, d) => s + d.wh, 0),
        rials: priceEnergy(days, contracts.get(inst.installationId) ?? null, deps.config.rules.stepDowns).grossRials,
      };
      const was = before.get(inst.installationId) ?? { wh: 0, rials: 0n };
      if (now.wh === was.wh && now.rials === was.rials) continue;
      const list = out.get(inst.installationId) ?? [];
      list.push({
        forMonth,
        wh: now.wh - was.wh,
        rials: now.rials - was.rials,
        reason: `counter data for ${forMonth} changed after it was closed`,
      });
      out.set(inst.installationId, list);
    }
  }
  return out;
}

const TABLES_OF_A_MONTH = [
  'statement_lines',
  'statements',
  'installation_bills',
  'energy_adjustments',
  'loan_deductions',
];

/** Replaces the month's draft with the new results (bulk inserts from arrays: one round trip per table). */
async function writeLedger(db: pg.ClientBase, billed: BilledMonth, now: number): Promise<void> {
  const { month, totals } = billed;
  for (const table of TABLES_OF_A_MONTH) await db.query(`DELETE FROM ${table} WHERE month = $1`, [month]);
  await db.query(
    `INSERT INTO billing_months (month, status, computed_at, digest, installations, beneficiaries, energy_wh, gross_rials, net_rials, pool_rials, payable_rials, incomplete)
     VALUES ($1, 'DRAFT', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (month) DO UPDATE SET computed_at = EXCLUDED.computed_at, digest = EXCLUDED.digest, installations = EXCLUDED.installations,
       beneficiaries = EXCLUDED.beneficiaries, energy_wh = EXCLUDED.energy_wh, gross_rials = EXCLUDED.gross_rials, net_rials = EXCLUDED.net_rials,
       pool_rials = EXCLUDED.pool_rials, payable_rials = EXCLUDED.payable_rials, incomplete = EXCLUDED.incomplete`,
    [
      month,
      new Date(now),
      billed.digest,
      totals.installations,
      totals.beneficiaries,
      totals.energyWh,
      totals.grossRials,
      totals.netRials,
      totals.poolRials,
      totals.payableRials,
      totals.incomplete,
    ],
  );
  const bills = billed.installations;
  await insertRows(db, month, 'installation_bills', bills, {
    installation_id: ['int', (b) => b.installationId],
    energy_wh: ['bigint', (b) => b.energyWh],
    gross_rials: ['bigint', (b) => b.grossRials],
    adjustment_rials: ['bigint', (b) => sumBigInt(b.adjustments.map((a) => a.rials))],
    income_rials: ['bigint', (b) => b.incomeRials],
    loan_rials: ['bigint', (b) => sumBigInt(b.loans.map((l) => l.deductedRials))],
    fee_rials: ['bigint', (b) => b.feeRials],
    net_rials: ['bigint', (b) => b.netRials],
    pool_rials: ['bigint', (b) => b.pool.rials],
    balance_out_rials: ['bigint', (b) => b.balanceOutRials],
    incomplete: ['bool', (b) => b.incomplete],
    detail: ['jsonb', billDetail],
  });
  await insertRows(
    db,
    month,
    'energy_adjustments',
    bills.flatMap((b) => b.adjustments.map((a) => ({ installationId: b.installationId, ...a }))),
    {
      installation_id: ['int', (a) => a.installationId],
      for_month: ['char(7)', (a) => a.forMonth],
      energy_wh: ['bigint', (a) => a.wh],
      rials: ['bigint', (a) => a.rials],
    },
  );
  await insertRows(
    db,
    month,
    'loan_deductions',
    bills.flatMap((b) => b.loans),
    {
      loan_id: ['int', (l) => l.loanId],
      owed_rials: ['bigint', (l) => l.owedRials],
      deducted_rials: ['bigint', (l) => l.deductedRials],
    },
  );
  await insertRows(db, month, 'statements', billed.statements, {
    beneficiary_id: ['int', (x) => x.beneficiaryId],
    earned_rials: ['bigint', (x) => x.earnedRials],
    carried_in_rials: ['bigint', (x) => x.carriedInRials],
    payable_rials: ['bigint', (x) => x.payableRials],
    carried_out_rials: ['bigint', (x) => x.carriedOutRials],
  });
  await insertRows(db, month, 'statement_lines', billed.lines, {
    beneficiary_id: ['int', (l) => l.beneficiaryId],
    share_id: ['int', (l) => l.shareId],
    installation_id: ['int', (l) => l.installationId],
    weight_w: ['int', (l) => l.weightW],
    active_days: ['int', (l) => l.activeDays],
    rials: ['bigint', (l) => l.rials],
  });
}

type Column<T> = [sqlType: string, value: (row: T) => number | bigint | string | boolean];
const INSERT_CHUNK = 10_000;

/** Inserts a month's rows from one array per column (unnest), in chunks: few round trips, bounded statements. */
async function insertRows<T>(
  db: pg.ClientBase,
  month: MonthId,
  table: string,
  rows: readonly T[],
  columns: Record<string, Column<T>>,
): Promise<void> {
  const names = Object.keys(columns);
  const types = Object.values(columns).map(([type]) => type);
  const sql = `INSERT INTO ${table} (month, ${names.join(', ')}) SELECT $1, * FROM unnest(${types.map((type, i) => `$${i + 2}::${type}[]`).join(', ')})`;
  for (let from = 0; from < rows.length; from += INSERT_CHUNK) {
    const chunk = rows.slice(from, from + INSERT_CHUNK);
    await db.query(sql, [
      month,
      ...Object.values(columns).map(([, value]) =>
        chunk.map((row) => {
          const v = value(row);
          return typeof v === 'bigint' ? v.toString() : v;
        }),
      ),
    ]);
  }
}

/** Everything that explains an installation's figures, for statements and staff views. */
function billDetail(bill: BilledMonth['installations'][number]): string {
  return toJson({
    code: bill.code,
    segments: bill.segments,
    unpricedWh: bill.unpricedWh,
    adjustments: bill.adjustments,
    balanceInRials: bill.balanceInRials,
    loans: bill.loans,
    feeRials: bill.feeRials,
    pool: bill.pool,
    counters: Object.fromEntries(
      Object.entries(bill.trace).map(([serial, t]) => [
        serial,
        {
          wh: t.wh,
          epochs: t.epochs.map((e) => ({
            opening: reading(e.opening),
            closing: reading(e.closing),
            afterReset: e.afterReset,
            wh: e.wh,
          })),
          flags: t.flags.map((f) =>
            Object.fromEntries(
              Object.entries(f).map(([k, v]) => [
                k,
                typeof v === 'number' && FLAG_TIMES.has(k) ? new Date(v).toISOString() : v,
              ]),
            ),
          ),
        },
      ]),
    ),
  });
}

const FLAG_TIMES = new Set(['at', 'firstReadingAt', 'lastReadingAt']);
const reading = (r: { tMs: number; wh: number }) => ({ at: new Date(r.tMs).toISOString(), wh: r.wh });
