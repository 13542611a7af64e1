// Drill: PostgreSQL stopped, or crashed (kill -9), under a billing run, and started again. The run
// holds the month in one transaction, so a stop or crash anywhere inside it must leave the ledger
// exactly as it was (no half-written month, no lock left behind), say plainly that PostgreSQL is
// away (the CLI in one line), and a rerun once it is back must give the same bill as before.
import { spawnSync } from 'node:child_process';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../lib/db';
import type { InfluxClient } from '../../lib/influx/client';
import { createLogger } from '../../lib/logger';
import { unavailableDependency } from '../../lib/unavailable';
import { service } from '../../testing/drills';
import { freshInfluxDatabase, freshPgDatabase, waitFor } from '../../testing/services';
import { DEFAULT_SETTLEMENT_POLICY } from '../src/core/reconcile-settlement';
import { parseMaintenanceFee } from '../src/core/deductions';
import { monthBounds } from '../../lib/program/solar-hijri';
import { parseStepDowns } from '../../lib/program/tariff';
import { type BillingDeps, runMonth } from '../src/run-month';

const NAME = 'billing_pg_away_drill';
const MONTH = '1404-08';
const INSTALLATIONS = 30;
const H = 3_600_000;
let databaseUrl: string;
let pool: pg.Pool;
let influx: InfluxClient;

/** Billing's dependencies, with a hook that sees each statement of the run's transaction before it is sent. */
function depsWith(beforeStatement: (sql: string) => Promise<void> = async () => {}): BillingDeps {
  const hooked = new Proxy(pool, {
    get(target, prop) {
      if (prop !== 'connect') return Reflect.get(target, prop, target);
      return async () => {
        const client = await target.connect();
        return new Proxy(client, {
          get(c, p) {
            if (p === 'query')
              return async (q: string | { text: string }, values?: unknown[]) => {
                await beforeStatement(typeof q === 'string' ? q : q.text);
                return c.query(q as string, values);
              };
            const value = Reflect.get(c, p, c);
            return typeof value === 'function' ? value.bind(c) : value;
          },
        });
      };
    },
  });
  return {
    pool: hooked,
    influx,
    log: createLogger('billing-drill', 'silent'),
    config: {
      rules: { stepDowns: parseStepDowns(''), maintenanceFee: parseMaintenanceFee('0%'), minimumPayoutRials: 100_000n },
      adjustmentMonths: 3,
      lookaroundDays: 400,
      settlements: DEFAULT_SETTLEMENT_POLICY,
    },
  };
}

/** The billing command line on this drill's databases (node itself: nothing but the CLI writes to stderr). */
const billingCli = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'billing/src/cli.ts', ...args], {
    env: { ...process.env, DATABASE_URL: databaseUrl, INFLUX_DATABASE: NAME },
    encoding: 'utf8',
  });

/** Everything a run of MONTH writes, as comparable text. */
async function ledger(): Promise<string> {
  const month = await pool.query(
    'SELECT status, digest, computed_at, gross_rials::text FROM billing_months WHERE month = $1',
    [MONTH],
  );
  const bills = await pool.query(
    'SELECT installation_id, energy_wh::text, gross_rials::text FROM installation_bills WHERE month = $1 ORDER BY installation_id',
    [MONTH],
  );
  const audit = await pool.query(
    `SELECT count(*)::int AS n FROM audit_log WHERE entity = 'billing_month' AND entity_id = $1`,
    [MONTH],
  );
  return JSON.stringify({ month: month.rows, bills: bills.rows, audit: audit.rows[0].n });
}

beforeAll(async () => {
  databaseUrl = await freshPgDatabase(NAME);
  pool = createPool({ connectionString: databaseUrl, max: 4 });
  ({ influx } = await freshInfluxDatabase(NAME));
  await pool.query(`
    INSERT INTO installations (id, code, name, province_id, latitude, longitude, dc_capacity_kwp, ac_rating_kw, status, updated_at)
      SELECT g, 'PGA-' || g, 'drill', p.id, 31.9, 54.4, 5, 5, 'COMMISSIONED', now()
      FROM generate_series(1, ${INSTALLATIONS}) g, provinces p WHERE p.code = 'yazd';
    INSERT INTO inverters (serial, installation_id, rated_ac_w, model, updated_at)
      SELECT 'PGA-INV-' || g, g, 5000, 't', now() FROM generate_series(1, ${INSTALLATIONS}) g;
    INSERT INTO contracts (id, installation_id, reference, kind, start_date)
      SELECT g, g, 'C-' || g, 'SUPPORT', '2024-01-01' FROM generate_series(1, ${INSTALLATIONS}) g;
    INSERT INTO tariff_periods (contract_id, effective_from, rial_per_kwh)
      SELECT g, '2024-01-01', 30000 FROM generate_series(1, ${INSTALLATIONS}) g;`);
  const { startMs, endMs } = monthBounds(MONTH);
  const lines: string[] = [];
  for (let i = 1; i <= INSTALLATIONS; i++)
    for (let t = startMs - 24 * H, wh = 1_000_000; t <= endMs + 24 * H; t += H, wh += 400 + i)
      lines.push(`telemetry,installation=PGA-${i},province=yazd,serial=PGA-INV-${i} energy_wh_total=${wh} ${t}000000`);
  await influx.write(lines.join('\n'));
});
afterAll(async () => {
  await service('start', 'postgres');
  await pool?.end();
});

describe('drill: PostgreSQL away under billing', () => {
  // Stopped (its fast shutdown: each connection told "terminating connection") or crashed (kill -9:
  // connections cut without a word, and the next start recovers from the WAL).
  it.each([
    ['stopped', 'stop'],
    ['killed (kill -9)', 'kill'],
  ] as const)(
    'leaves the ledger as it was when PostgreSQL is %s mid-write, says so, and bills the same once it is back',
    async (_how, fault) => {
      const first = await runMonth(depsWith(), MONTH, { actor: 'drill' });
      expect(first.totals.installations).toBe(INSTALLATIONS);
      const before = await ledger();

      // Stopped while the run has replaced the draft's rows inside its transaction and writes the new bills.
      let stopped = false;
      const failed = await runMonth(
        depsWith(async (sql) => {
          if (!stopped && /^\s*INSERT INTO installation_bills/.test(sql)) {
            stopped = true;
            await service(fault, 'postgres');
          }
        }),
        MONTH,
        { actor: 'drill' },
      ).then(
        () => null,
        (error: unknown) => error,
      );
      expect(stopped).toBe(true);
      expect(failed).not.toBeNull();
      expect(unavailableDependency(failed), String(failed)).toBe('PostgreSQL');

      // While it is away: the command line says so in one line, and nothing else.
      const cli = billingCli('run', MONTH);
      expect(cli.status).toBe(1);
      expect(cli.stderr.trim().split('\n')).toHaveLength(1);
      expect(cli.stderr).toMatch(/^error: PostgreSQL is unavailable: .*; run it again once it is back\n$/);

      await service('start', 'postgres');
      await waitFor(
        'PostgreSQL to answer again',
        () =>
          pool.query('SELECT 1').then(
            () => true,
            () => false,
          ),
        (up) => up,
        30_000,
      );
      expect(await ledger()).toBe(before); // not half-written: the draft from before, untouched

      // The rerun (from the command line, as an operator would) takes the lock and bills the same month.
      const rerun = billingCli('run', MONTH);
      expect(rerun.status, rerun.stderr).toBe(0);
      expect(rerun.stdout).toContain(`digest ${first.digest.slice(0, 16)}`);
      const after = JSON.parse(await ledger());
      const was = JSON.parse(before);
      expect(after.bills).toEqual(was.bills);
      expect(after.month[0].digest).toBe(was.month[0].digest);
      expect(after.audit).toBe(was.audit + 1);
    },
  );
});
