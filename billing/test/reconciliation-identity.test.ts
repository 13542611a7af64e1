// Every Rial accounted for, against the real PostgreSQL and InfluxDB: 1,000 random
// scenarios (one installation each, with its own beneficiaries) billed over four months, settled by
// the distribution company in periods that match our months or cut them, and reconciled, under both
// difference policies. After every reconciliation, to the Rial:
//   promised + beneficiaries' carry + pool + deductions + fees carried + installation balances
//     = settled + billed not yet settled − absorbed − pending − billed in open months
// and each settlement's billed Rials are what billing billed (the ledger's months, split exactly).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nationalCodeFor, shebaFor } from '../../lib/identifiers/validate';
import { InfluxClient } from '../../lib/influx/client';
import { createLogger } from '../../lib/logger';
import { batchedLineWriter, freshInfluxDatabase, freshPgDatabase } from '../../testing/services';
import { monthCapacityBoundWh, reviewCounter } from '../src/counter-reviews';
import { parseMaintenanceFee } from '../src/core/deductions';
import { type DifferencePolicy, DEFAULT_SETTLEMENT_POLICY } from '../src/core/reconcile-settlement';
import { type MonthId, monthBounds, monthDays } from '../../lib/program/solar-hijri';
import { parseStepDowns } from '../../lib/program/tariff';
import { type BillingDeps, runMonth } from '../src/run-month';
import { cashPosition } from '../src/settlements/cash-position';
import { importSettlements } from '../src/settlements/import-settlements';
import { reconcileSettlements } from '../src/settlements/reconcile-settlements';

const SCENARIOS = 1_000;
const NAME = 'billing_reconciliation_identity';
const MONTHS: MonthId[] = ['1405-04', '1405-05', '1405-06', '1405-07'];
const H = 3_600_000;
const STEP = 8 * H; // three readings a day
const FIRST = monthBounds(MONTHS[0]!).startMs - 2 * 24 * H;
const LAST = monthBounds(MONTHS[3]!).endMs + 2 * 24 * H;
const M1_END = monthBounds(MONTHS[0]!).endMs;
const STEP_DOWNS = '8:90,12:80,16:70';
const HEADER = 'installation_code,period_start,period_end,metered_kwh,amount_rials,reference,paid_on';
// Settlement periods (Solar Hijri, both days included): matching our months, or cutting them.
const PATTERNS: [first: [string, string], second: [string, string] | null][] = [
  [
    ['1405/04/01', '1405/05/31'],
    ['1405/06/01', '1405/07/30'],
  ],
  [
    ['1405/04/11', '1405/06/10'],
    ['1405/06/11', '1405/07/30'],
  ],
  [['1405/04/01', '1405/05/31'], null],
  [
    ['1405/04/01', '1405/05/15'],
    ['1405/05/16', '1405/07/15'],
  ],
];

/** mulberry32: the same scenarios on every run. */
function random(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!,
    chance: (p: number) => next() < p,
  };
}

interface Scenario {
  id: number;
  code: string;
  serial: string;
  province: string;
  ratedW: number;
  /** A counter jump that stays, in the second month: held until an operator decides. */
  jumpAt: number | null;
  decision: 'ACCEPT' | 'EXCLUDE' | 'CORRECT';
  /** Its link lost from before the first month's end (no closing reading): the buffer arrives after that month closed. */
  silent: [number, number] | null;
  pattern: (typeof PATTERNS)[number] | null;
  factors: { amount: number; meter: number; paid: boolean }[];
}

const rng = random(19_02);
const dates = MONTHS.flatMap((m) => monthDays(m).map((d) => d.date));
const scenarios: Scenario[] = Array.from({ length: SCENARIOS }, (_, k) => {
  const id = k + 1;
  const m2 = monthBounds(MONTHS[1]!);
  return {
    id,
    code: `ID-${String(id).padStart(4, '0')}`,
    serial: `IDS-${String(id).padStart(4, '0')}`,
    province: ['yazd', 'fars', 'tehran', 'kerman'][k % 4]!,
    ratedW: 5000 * rng.int(1, 4),
    jumpAt: rng.chance(0.04) ? m2.startMs + rng.int(5, 20) * 24 * H : null,
    decision: rng.pick(['ACCEPT', 'EXCLUDE', 'CORRECT'] as const),
    silent: rng.chance(0.05) ? [M1_END - rng.int(6, 40) * H, LAST + 1] : null,
    pattern: rng.chance(0.1) ? null : rng.pick(PATTERNS),
    factors: [0, 1].map(() => ({
      amount: rng.pick([1, 1, 1, 0.99, 0.85, 1.1, 0.5]),
      meter: rng.pick([1, 0.99, 0.85, 1.07]),
      paid: rng.chance(0.8),
    })),
  };
});

/** The registry of every scenario, as SQL: contracts with tariff changes and step-downs, loans, shares. */
function registrySql(): string {
  const r = random(19_03);
  const rows = { inst: [] as string[], inv: [] as string[], con: [] as string[], tar: [] as string[] };
  const more = { ben: [] as string[], share: [] as string[], loan: [] as string[] };
  let beneficiary = 0;
  for (const s of scenarios) {
    const kw = s.ratedW / 1000;
    rows.inst.push(
      `(${s.id}, '${s.code}', '${s.code}', (SELECT id FROM provinces WHERE code = '${s.province}'), 32, 54, ${kw}, ${kw}, 'COMMISSIONED', now())`,
    );
    rows.inv.push(`('${s.serial}', ${s.id}, ${s.ratedW}, 'identity', now())`);
    // Ordinary contracts: some reach contract year 8 (a step-down) inside the four months.
    const kind = r.chance(0.3) ? 'SUPPORT' : 'ORDINARY';
    const stepInside = kind === 'ORDINARY' && r.chance(0.3);
    const stepDate = r.pick(dates); // contract year 8 starts on the 7th anniversary
    const start = stepInside ? `${Number(stepDate.slice(0, 4)) - 7}${stepDate.slice(4)}` : '2022-03-01';
    rows.con.push(`(${s.id}, ${s.id}, 'C-${s.code}', '${kind}', '${start}')`);
    const rate = r.pick([25_000, 30_000, 38_500, r.int(20_000, 40_000)]);
    if (r.chance(0.3)) {
      const change = r.pick(dates);
      rows.tar.push(
        `(${s.id}, '${start}', '${change}', ${rate})`,
        `(${s.id}, '${change}', NULL, ${r.int(20_000, 45_000)})`,
      );
    } else rows.tar.push(`(${s.id}, '${start}', NULL, ${rate})`);
    // One to three people, their weights within the capacity (the rest is the pool's); some join or leave.
    let free = s.ratedW;
    for (let j = r.int(1, 3); j > 0 && free >= 500; j--) {
      beneficiary++;
      const weight = Math.min(free, 500 * r.int(1, 10));
      free -= weight;
      more.ben.push(
        `(${beneficiary}, '${nationalCodeFor(190_000 + beneficiary)}', 'B ${beneficiary}', '` +
          `${shebaFor(190_000 + beneficiary)}', (SELECT id FROM provinces WHERE code = '${s.province}'), 'OTHER', now())`,
      );
      const from = r.chance(0.15) ? r.pick(dates) : '2024-01-01';
      const later = dates.filter((d) => d > from);
      const until = r.chance(0.1) && later.length > 0 ? `'${r.pick(later)}'` : 'NULL';
      more.share.push(`(${beneficiary}, ${s.id}, ${weight}, '${from}', ${until}, now())`);
    }
    if (r.chance(0.3)) {
      const principal = r.int(1_000, 50_000) * 1_000;
      const installments = r.int(2, 12);
      const installment = Math.ceil(principal / installments) + r.int(0, 3) * 1_000;
      more.loan.push(`(${s.id}, 'L-${s.code}', ${principal}, ${installment}, ${installments}, '${r.pick(MONTHS)}')`);
    }
  }
  return `
    INSERT INTO installations (id, code, name, province_id, latitude, longitude, dc_capacity_kwp, ac_rating_kw, status,
      updated_at) VALUES ${rows.inst.join(',')};
    INSERT INTO inverters (serial, installation_id, rated_ac_w, model, updated_at) VALUES ${rows.inv.join(',')};
    INSERT INTO contracts (id, installation_id, reference, kind, start_date) VALUES ${rows.con.join(',')};
    INSERT INTO tariff_periods (contract_id, effective_from, effective_until, rial_per_kwh) VALUES ${rows.tar.join(',')};
    INSERT INTO beneficiaries (id, national_code, full_name, sheba, province_id, target_group, updated_at) VALUES ${more.ben.join(',')};
    INSERT INTO shares (beneficiary_id, installation_id, weight_w, valid_from, valid_until, updated_at) VALUES ${more.share.join(',')};
    INSERT INTO loans (installation_id, reference, principal_rials, installment_rials, installments, first_due_month) VALUES ${more.loan.join(',')};`;
}

/** Each scenario's counter every 8 hours, at 0.05 % or 10–28 % of its rating; a silent window's readings come later. */
async function writeReadings(influx: InfluxClient): Promise<string[]> {
  const r = random(19_04);
  const writer = batchedLineWriter(influx);
  const late: string[] = [];
  for (const s of scenarios) {
    const tiny = r.chance(0.1); // too little income for the fee and the minimum payout: carried
    const tags = `telemetry,installation=${s.code},province=${s.province},serial=${s.serial}`;
    let wh = r.int(0, 100_000_000);
    for (let t = FIRST + r.int(0, 479) * 60_000; t <= LAST; t += STEP) {
      const counter = wh + (s.jumpAt !== null && t >= s.jumpAt ? 50_000_000 : 0);
      const line = `${tags} energy_wh_total=${counter} ${t}000000`;
      if (s.silent && t >= s.silent[0] && t < s.silent[1]) late.push(line);
      else await writer.add(line);
      wh += Math.round((s.ratedW * (STEP / H) * (tiny ? 0.05 : r.int(10, 28))) / 100);
    }
  }
  await writer.done();
  return late;
}

interface Ledger {
  pool: pg.Pool;
  deps: BillingDeps;
}
const ledgers: Ledger[] = [];
let influx: InfluxClient;
let lateReadings: string[];

const settle = (ledger: Ledger) =>
  reconcileSettlements({
    pool: ledger.pool,
    influx,
    policy: ledger.deps.config.settlements,
    stepDowns: ledger.deps.config.rules.stepDowns,
    lookaroundDays: ledger.deps.config.lookaroundDays,
    log: ledger.deps.log,
  });

const solarDates = new Map(
  MONTHS.flatMap((m) =>
    monthDays(m).map((d, i) => [`${m.replace('-', '/')}/${String(i + 1).padStart(2, '0')}`, d.date]),
  ),
);

/** The settlement file for each scenario's first or second period: about what billing billed (drafts by days), times the scenario's factors. */
async function settlementFile(pool: pg.Pool, which: 0 | 1): Promise<string> {
  const { rows } = await pool.query<{ code: string; month: string; wh: string; rials: string }>(
    `SELECT i.code, b.month, b.energy_wh AS wh, b.gross_rials AS rials
       FROM installation_bills b JOIN installations i ON i.id = b.installation_id`,
  );
  const billed = new Map(rows.map((r) => [`${r.code}/${r.month}`, r]));
  const lines = [HEADER];
  for (const s of scenarios) {
    const period = s.pattern?.[which];
    if (!period) continue;
    const [from, last] = [solarDates.get(period[0])!, solarDates.get(period[1])!];
    let wh = 0;
    let rials = 0;
    for (const month of MONTHS) {
      const days = monthDays(month);
      const inside = days.filter((d) => d.date >= from && d.date <= last).length;
      const b = billed.get(`${s.code}/${month}`);
      if (!b) continue;
      wh += (Number(b.wh) * inside) / days.length;
      rials += (Number(b.rials) * inside) / days.length;
    }
    const f = s.factors[which]!;
    lines.push(
      `${s.code},${period[0]},${period[1]},${((wh * f.meter) / 1000).toFixed(3)},${Math.round(rials * f.amount)}` +
        `,T${which}-${s.code},${f.paid ? '1405/08/20' : ''}`,
    );
  }
  return lines.join('\n');
}

beforeAll(async () => {
  // Billing's own InfluxDB timeout: a query scans a month of 1,000 counters.
  const { config } = await freshInfluxDatabase(NAME);
  influx = new InfluxClient({ ...config, requestTimeoutMs: 600_000 });
  const sql = registrySql();
  for (const policy of ['absorb', 'adjust'] as DifferencePolicy[]) {
    const pool = new pg.Pool({ connectionString: await freshPgDatabase(`${NAME}_${policy}`), max: 4 });
    await pool.query(sql);
    ledgers.push({
      pool,
      deps: {
        pool,
        influx,
        log: createLogger('identity-test', 'silent'),
        config: {
          rules: {
            stepDowns: parseStepDowns(STEP_DOWNS),
            maintenanceFee: parseMaintenanceFee('150000'),
            minimumPayoutRials: 100_000n,
          },
          adjustmentMonths: 3,
          lookaroundDays: 62,
          settlements: { ...DEFAULT_SETTLEMENT_POLICY, differencePolicy: policy },
        },
      },
    });
  }
  lateReadings = await writeReadings(influx);
}, 600_000);

afterAll(async () => {
  for (const l of ledgers) await l.pool.end();
});

/** Both sides of the identity from the cash position, and the left side again straight from the ledger. */
async function expectEveryRialAccountedFor(ledger: Ledger): Promise<void> {
  const c = await cashPosition(ledger.pool, '2026-12-01', 45);
  const wentTo =
    c.promisedRials +
    c.beneficiariesCarriedRials +
    c.poolRials +
    c.deductionsRials +
    c.feesCarriedRials +
    c.installationBalancesRials;
  const cameFrom =
    c.settledRials +
    c.unsettledRials -
    c.absorbedDifferenceRials -
    c.pendingDifferenceRials -
    c.billedInOpenMonthsRials;
  expect(wentTo).toBe(cameFrom);
  const { rows } = await ledger.pool.query<{ billed: string }>(
    `SELECT (SELECT COALESCE(sum(b.gross_rials + b.adjustment_rials), 0) FROM installation_bills b
               JOIN billing_months m ON m.month = b.month AND m.status <> 'DRAFT') AS billed`,
  );
  expect(wentTo).toBe(BigInt(rows[0]!.billed));
  // Each difference is a settlement's, with its reason.
  const diffs = await ledger.pool.query<{ status: string | null; difference: string }>(
    `SELECT status::text, sum(amount_rials - COALESCE(billed_rials, 0))::text AS difference FROM utility_settlements GROUP BY status`,
  );
  const total = diffs.rows.reduce((s, r) => s + BigInt(r.difference), 0n);
  expect(total).toBe(c.absorbedDifferenceRials + c.carriedDifferenceRials + c.pendingDifferenceRials);
}

/**
 * What billing billed each installation in each closed month (gross + late-data adjustments), from the
 * ledger, against the settlements: a settlement of whole months bills exactly their sum, and a
 * month that settlements cover whole is split among them to the Rial. Returns how many of each.
 */
async function expectPricedAsBilled(ledger: Ledger): Promise<{ wholeMonthSettlements: number; splitMonths: number }> {
  const billed = await ledger.pool.query<{ installation_id: number; month: string; rials: string }>(
    `SELECT b.installation_id, b.month, (b.gross_rials + COALESCE((SELECT sum(a.rials) FROM energy_adjustments a
            JOIN billing_months am ON am.month = a.month AND am.status <> 'DRAFT'
            WHERE a.installation_id = b.installation_id AND a.for_month = b.month), 0))::text AS rials
       FROM installation_bills b JOIN billing_months m ON m.month = b.month AND m.status <> 'DRAFT'`,
  );
  const byKey = new Map(billed.rows.map((b) => [`${b.installation_id}/${b.month}`, BigInt(b.rials)]));
  const ledgerOf = (installationId: number, month: string) => byKey.get(`${installationId}/${month}`) ?? 0n;
  const settlements = await ledger.pool.query<{
    reference: string;
    installation_id: number;
    billed_rials: string;
    months: { month: string; fromDate: string; toDate: string; rials: string; recorded: boolean }[];
  }>(`SELECT reference, installation_id, billed_rials::text, detail -> 'months' AS months FROM utility_settlements`);
  const starts = new Set(MONTHS.map((m) => monthDays(m)[0]!.date));
  const ends = new Set(MONTHS.map((m) => monthDays(m).at(-1)!.date));
  const parts = new Map<string, { rials: bigint; days: number }>();
  let wholeMonthSettlements = 0;
  for (const s of settlements.rows) {
    if (s.months.every((p) => p.recorded && starts.has(p.fromDate) && ends.has(p.toDate))) {
      wholeMonthSettlements++;
      const months = s.months.map((p) => ledgerOf(s.installation_id, p.month));
      expect(BigInt(s.billed_rials), s.reference).toBe(months.reduce((a, b) => a + b, 0n));
    }
    for (const p of s.months) {
      const key = `${s.installation_id}/${p.month}`;
      const sum = parts.get(key) ?? { rials: 0n, days: 0 };
      sum.rials += BigInt(p.rials);
      sum.days += (Date.parse(p.toDate) - Date.parse(p.fromDate)) / 86_400_000 + 1;
      parts.set(key, sum);
    }
  }
  let splitMonths = 0;
  for (const [key, sum] of parts) {
    const [id, month] = key.split('/') as [string, MonthId];
    if (sum.days !== monthDays(month).length) continue;
    const own = settlements.rows.filter((s) => s.installation_id === Number(id)).flatMap((s) => s.months);
    if (own.filter((p) => p.month === month).length < 2) continue;
    splitMonths++;
    expect(sum.rials, key).toBe(ledgerOf(Number(id), month));
  }
  return { wholeMonthSettlements, splitMonths };
}

describe(`every Rial accounted for: ${SCENARIOS} random scenarios, both policies`, () => {
  it('two months closed (one held and reviewed, one completed by late data), the first periods settled and reconciled', async () => {
    for (const l of ledgers) await runMonth(l.deps, MONTHS[0]!, { close: true, actor: 'test' });
    await influx.write(lateReadings.join('\n')); // the silent dataloggers' buffers arrive
    for (const l of ledgers) {
      await runMonth(l.deps, MONTHS[1]!, { actor: 'test' });
      const held = await l.pool.query<{ installation_id: number }>(
        `SELECT installation_id FROM installation_bills WHERE month = $1 AND implausible`,
        [MONTHS[1]],
      );
      expect(held.rows.length).toBe(scenarios.filter((s) => s.jumpAt !== null).length);
      for (const { installation_id } of held.rows) {
        const s = scenarios[installation_id - 1]!;
        const bound = monthCapacityBoundWh(MONTHS[1]!, s.ratedW);
        await reviewCounter(
          l.pool,
          {
            month: MONTHS[1]!,
            serial: s.serial,
            decision: s.decision,
            correctedWh: s.decision === 'CORRECT' ? Math.floor(bound / 5) : null,
            reason: 'checked on site',
          },
          'test',
        );
      }
      await runMonth(l.deps, MONTHS[1]!, { close: true, actor: 'test' });
      const adjusted = await l.pool.query(`SELECT count(*)::int AS n FROM energy_adjustments WHERE for_month = $1`, [
        MONTHS[0],
      ]);
      expect(adjusted.rows[0].n).toBe(scenarios.filter((s) => s.silent !== null).length);
      expect(
        (await importSettlements(l.pool, await settlementFile(l.pool, 0), { dryRun: false, actor: 'test' })).errors,
      ).toEqual([]);
      const summary = await settle(l);
      expect(summary.byStatus.TELEMETRY_MISSING ?? 0).toBe(0);
      await expectEveryRialAccountedFor(l);
    }
  }, 900_000);

  it('the third month closed (under adjust, differences carried), the second periods settled: still to the Rial', async () => {
    for (const l of ledgers) {
      await runMonth(l.deps, MONTHS[2]!, { close: true, actor: 'test' });
      const redone = await settle(l); // the periods priced in part from the third month before it closed
      expect(redone.reconciled).toBe(scenarios.filter((s) => s.pattern === PATTERNS[1]).length);
      await expectEveryRialAccountedFor(l);
      expect(
        (await importSettlements(l.pool, await settlementFile(l.pool, 1), { dryRun: false, actor: 'test' })).errors,
      ).toEqual([]);
      await settle(l);
      await expectEveryRialAccountedFor(l);
    }
    const carried = await ledgers[1]!.pool.query(`SELECT count(*)::int AS n FROM settlement_adjustments`);
    expect(carried.rows[0].n).toBeGreaterThan(50);
    expect((await ledgers[0]!.pool.query(`SELECT count(*)::int AS n FROM settlement_adjustments`)).rows[0].n).toBe(0);
  }, 900_000);

  it('every month closed: each settlement priced exactly as billed, every split month adding up, every Rial accounted for', async () => {
    for (const l of ledgers) {
      await runMonth(l.deps, MONTHS[3]!, { close: true, actor: 'test' });
      await settle(l);
      const provisional = await l.pool.query(
        `SELECT count(*)::int AS n FROM utility_settlements s, jsonb_array_elements(s.detail -> 'months') part WHERE NOT (part ->> 'recorded')::boolean`,
      );
      expect(provisional.rows[0].n).toBe(0);
      await expectEveryRialAccountedFor(l);
      const checked = await expectPricedAsBilled(l);
      expect(checked.wholeMonthSettlements).toBeGreaterThan(300);
      expect(checked.splitMonths).toBeGreaterThan(100);
      const c = await cashPosition(l.pool, '2026-12-01', 45);
      expect(c.pendingDifferenceRials).toBe(0n);
      expect(c.feesCarriedRials).toBeGreaterThan(0n);
      expect(c.beneficiariesCarriedRials).toBeGreaterThan(0n);
    }
  }, 900_000);
});
