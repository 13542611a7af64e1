// Seeds the demo program into a profile's real services, once: the registry (PostgreSQL), three
// months of history through the simulator, the broker and ingest (InfluxDB), billed, closed and the
// oldest paid at their place in the replayed timeline, and a draft of the running month to date.
// A seeded profile is recognised by its audit-log entry and skipped; an interrupted seed runs again
// from the start (every step is idempotent: existing rows are kept, readings overwrite themselves,
// closed months are left as they are).
import { writeFileSync } from 'node:fs';
import mqtt from 'mqtt';
import type pg from 'pg';
import { firstAuditEntry, writeAudit } from '../../lib/audit';
import type { MqttConfig } from '../../lib/config';
import { endClient } from '../../lib/mqtt/end-client';
import type { BillingConfig } from '../../billing';
import type { InfluxClient } from '../../lib/influx/client';
import { MEASUREMENT, RETENTION, rebuildRollups } from '../../lib/influx/layout';
import type { Logger } from '../../lib/logger';
import { rollbackWith, withTransaction } from '../../lib/transaction';
import { markPaid, monthStatus, payoutBatch, runMonth, type BillingDeps, type RunSummary } from '../../billing';
import { monthBounds, monthOf, nextMonth } from '../../lib/program/solar-hijri';
import { activeInverterCount, isInstallationRegistered, registerProgram } from '../../registry';
import { planFleet, runBackfill } from '../../simulators';
import { buildDemoPlan, type DemoPlan, type DemoStep, liveScenario } from './plan';

export const SEED_ACTOR = 'demo-seed';
const MARKER = 'demo.seeded';
const ROLLUPS_MARKER = 'demo.rollups';

export interface SeedDeps {
  pool: pg.Pool;
  influx: InfluxClient;
  billing: Pick<BillingConfig, 'rules' | 'adjustmentMonths' | 'lookaroundDays' | 'closeDay' | 'settlements'>;
  fleetMqtt: MqttConfig;
  /** Makes the fleet account exist before the history is published with it (it exists only where a fleet runs). */
  ensureFleetAccount?: () => Promise<void>;
  /** Slow hash of a PIN (the API's); called once per distinct demo PIN. */
  hashPin: (pin: string) => Promise<string>;
  /**
   * The alerts evaluator, run at the plan's instants in the replayed history (as the alerts job
   * would have), configured to notify nobody: the history is the past.
   */
  alerts?: { evaluateOnce: (nowMs: number) => Promise<{ opened: number; cleared: number }> };
  /** An ingest worker's /healthz: the history is published once it knows every registered inverter. */
  ingestHealthUrl: string;
  log: Logger;
  /** One line per long step (backfill progress, each month billed). */
  progress: (line: string) => void;
  now?: () => number;
}

export interface SeedOptions {
  installations: number;
  intervalSeconds: number;
  /** Where the live fleet's scenario and the demo logins are written. */
  fleetFile: string;
  loginsFile: string;
}

export interface DemoLogin {
  nationalCode: string;
  pin: string;
  fullName: string;
  installation: string;
}
export interface SeedResult {
  skipped: boolean;
  installations: number;
  logins: DemoLogin[];
  seconds: number;
}

const rials = (value: bigint | string) => `${BigInt(value).toLocaleString('en-US')} Rials`;

export async function seedDemo(deps: SeedDeps, options: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  const now = deps.now?.() ?? Date.now();
  const seeded = await firstAuditEntry<{ installations: number }>(deps.pool, MARKER);
  const installations = seeded?.after.installations ?? options.installations;
  const plan = buildDemoPlan({
    installations,
    nowMs: now,
    closeDay: deps.billing.closeDay,
    intervalSeconds: options.intervalSeconds,
  });
  const logins = plan.logins.map((i): DemoLogin => {
    const b = plan.beneficiaries[i]!;
    const inst = plan.installations.find((x) => x.shares.some((s) => s.beneficiary === i))!;
    return { nationalCode: b.nationalCode, pin: b.pin, fullName: b.fullName, installation: inst.code };
  });
  const finish = async (skipped: boolean): Promise<SeedResult> => {
    writeFileSync(options.fleetFile, JSON.stringify(liveScenario(plan.scenario, now), null, 1), { mode: 0o600 });
    writeFileSync(options.loginsFile, `${JSON.stringify(logins, null, 1)}\n`, { mode: 0o600 });
    return { skipped, installations, logins, seconds: (performance.now() - started) / 1000 };
  };
  if (seeded) {
    if (installations !== options.installations)
      deps.progress(
        `demo program: seeded with ${installations} installations on ` +
          `${seeded.at.toISOString().slice(0, 10)}; ${options.installations} applies to a fresh run profile`,
      );
    return finish(true);
  }

  deps.progress(
    `demo program: ${plan.installations.length} installations, ${plan.beneficiaries.length} beneficiaries; ` +
      `history ${plan.history.join(', ')}, ${plan.current} running`,
  );
  const registered = await seedRegistry(deps, plan);
  deps.progress(
    registered
      ? 'registry: installations, inverters, people, shares, contracts and loans written'
      : 'registry: already there',
  );
  await ingestKnowsRegistry(deps);
  await replayHistory(deps, plan);
  await writeAudit(deps.pool, {
    actor: SEED_ACTOR,
    action: MARKER,
    entity: 'demo',
    entityId: 'program',
    after: {
      installations,
      beneficiaries: plan.beneficiaries.length,
      history: plan.history,
      backfill: { fromMs: plan.backfill.fromMs, toMs: plan.backfill.toMs },
      seconds: Math.round((performance.now() - started) / 1000),
    },
  });
  return finish(false);
}

/**
 * Writes the whole registry in one transaction through the registry's bulk writer (which refuses a plan
 * the API would refuse), unless the demo installations are already there.
 */
async function seedRegistry(deps: SeedDeps, plan: DemoPlan): Promise<boolean> {
  // One slow hash per distinct demo PIN (a handful), computed concurrently: hashing every person's PIN
  // at the API's cost would take minutes for a few hundred people.
  const distinct = [...new Set(plan.beneficiaries.map((b) => b.pin))];
  const hashes = new Map(await Promise.all(distinct.map(async (pin) => [pin, await deps.hashPin(pin)] as const)));
  return withTransaction(deps.pool, async (db) => {
    if (await isInstallationRegistered(db, plan.installations[0]!.code)) return rollbackWith(false);
    const people = plan.beneficiaries;
    const counts = await registerProgram(db, {
      beneficiaries: people.map((b) => ({ ...b, pinHash: hashes.get(b.pin)! })),
      installations: plan.installations.map((i) => ({
        ...i,
        acKw: i.dcKwp,
        inverters: [{ serial: i.serial, ratedAcW: i.ratedAcW, model: 'simulated (demo)' }],
        shares: i.shares.map((s) => ({ ...s, nationalCode: people[s.beneficiary]!.nationalCode })),
      })),
    });
    await writeAudit(db, {
      actor: SEED_ACTOR,
      action: 'demo.registry',
      entity: 'demo',
      entityId: 'program',
      after: {
        installations: counts.installations,
        beneficiaries: counts.beneficiaries,
        shares: counts.shares,
        contracts: counts.contracts,
        loans: counts.loans,
      },
    });
    return true;
  });
}

/** What ingest says of itself (nothing while it cannot be reached). */
const ingestHealth = (deps: SeedDeps): Promise<{ registryDevices?: number; journalBacklogBytes?: number }> =>
  fetch(deps.ingestHealthUrl)
    .then((r) => r.json() as Promise<{ registryDevices?: number; journalBacklogBytes?: number }>)
    .catch(() => ({}));

/** Waits until ingest has loaded every active inverter, so none of the history is refused as an unknown device. */
async function ingestKnowsRegistry(deps: SeedDeps): Promise<void> {
  const registered = await activeInverterCount(deps.pool);
  const deadline = Date.now() + 60_000;
  let known = -1;
  while (known < registered) {
    if (Date.now() > deadline)
      throw new Error(`ingest at ${deps.ingestHealthUrl} knows ${known} of ${registered} inverters after a minute`);
    known = (await ingestHealth(deps)).registryDevices ?? -1;
    if (known < registered) await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Readings stored in InfluxDB in [fromMs, toMs]. */
async function storedReadings(influx: InfluxClient, fromMs: number, toMs: number): Promise<number> {
  const rows = await influx.rows(
    `SELECT count("energy_wh_total") FROM "${RETENTION.raw}"."${MEASUREMENT.telemetry}" WHERE time >= ${fromMs}ms AND time <= ${toMs}ms`,
  );
  return Number(rows[0]?.count ?? 0);
}

async function replayHistory(deps: SeedDeps, plan: DemoPlan): Promise<void> {
  const { fromMs, toMs, intervalSeconds } = plan.backfill;
  await deps.ensureFleetAccount?.();
  const clients = await Promise.all(
    Array.from({ length: 4 }, (_, i) =>
      mqtt.connectAsync(deps.fleetMqtt.url, {
        username: deps.fleetMqtt.username,
        password: deps.fleetMqtt.password,
        clientId: `demo-seed-${process.pid}-${i}`,
      }),
    ),
  );
  const started = performance.now();
  let reported = 0;
  const alerts = { evaluations: 0, opened: 0, cleared: 0, ms: 0 };
  const alertPauses = deps.alerts
    ? plan.alertChecks.map((atMs) => ({
        atMs,
        run: async (published: number) => {
          const waited = performance.now();
          await waitStored(deps, fromMs, atMs, published);
          const report = await deps.alerts!.evaluateOnce(atMs);
          alerts.ms += performance.now() - waited;
          alerts.evaluations += 1;
          alerts.opened += report.opened;
          alerts.cleared += report.cleared;
        },
      }))
    : [];
  try {
    await runBackfill(planFleet(plan.scenario), {
      seed: plan.scenario.seed ?? 1,
      fromMs,
      toMs,
      intervalSeconds,
      clients,
      quietAtNight: true,
      onProgress: (done, total) => {
        const elapsed = (performance.now() - started) / 1000;
        if (elapsed - reported < 5 && done < total) return;
        reported = elapsed;
        deps.progress(
          `backfill: ${Math.round((done / total) * 100)} %, replayed to ` +
            `${new Date(fromMs + ((toMs - fromMs) * done) / total).toISOString().slice(0, 16)}Z (${elapsed.toFixed(0)} s)`,
        );
      },
      pauses: [
        ...plan.steps.map((step) => ({
          atMs: step.atMs,
          run: async (published: number) => {
            await waitStored(deps, fromMs, step.atMs, published);
            await billingStep(deps, step);
          },
        })),
        ...alertPauses,
      ],
    });
  } finally {
    // Within a grace: after a failed step publications may be under way, and a broker gone then
    // would hold a graceful end for ever (the error never reported).
    await Promise.all(clients.map((c) => endClient(c, 5000)));
  }
  if (deps.alerts)
    deps.progress(
      `alerts: evaluated ${alerts.evaluations} times across the history's incidents in ` +
        `${(alerts.ms / 1000).toFixed(0)} s: ${alerts.opened} opened, ${alerts.cleared} closed`,
    );
  deps.progress(`history: replayed and billed in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

/**
 * Fills InfluxDB's hourly and daily rollups over the replayed history, once (dashboards read them;
 * readings older than the rollups' resample windows reach them only this way). Slow: npm start runs
 * it in the background once the seed is done. Month by month (Tehran midnights, so days nest), two
 * at a time (InfluxDB uses both cores).
 */
export async function rebuildDemoRollups(
  deps: Pick<SeedDeps, 'pool' | 'influx' | 'progress'>,
): Promise<'rebuilt' | 'done before' | 'not seeded'> {
  if (await firstAuditEntry(deps.pool, ROLLUPS_MARKER)) return 'done before';
  const range = (await firstAuditEntry<{ backfill?: { fromMs: number; toMs: number } }>(deps.pool, MARKER))?.after
    .backfill;
  if (!range) return 'not seeded';
  const started = performance.now();
  const cuts = [range.fromMs];
  for (let m = monthOf(range.fromMs); monthBounds(m).startMs <= range.toMs; m = nextMonth(m))
    if (monthBounds(m).startMs > range.fromMs) cuts.push(monthBounds(m).startMs);
  cuts.push(range.toMs + 1);
  const chunks = cuts.slice(1).map((end, i) => [cuts[i]!, end] as const);
  const worker = async () => {
    for (let chunk = chunks.shift(); chunk; chunk = chunks.shift()) await rebuildRollups(deps.influx, ...chunk);
  };
  await Promise.all([worker(), worker()]);
  await writeAudit(deps.pool, {
    actor: SEED_ACTOR,
    action: ROLLUPS_MARKER,
    entity: 'demo',
    entityId: 'rollups',
    after: { seconds: Math.round((performance.now() - started) / 1000) },
  });
  deps.progress(
    `rollups: the history's hourly and daily series rebuilt in ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
  return 'rebuilt';
}

/**
 * Waits until ingest has stored every reading published so far (billing reads what InfluxDB holds).
 * Counting a few million points takes InfluxDB seconds, so the count waits for ingest's journal to drain.
 */
async function waitStored(deps: SeedDeps, fromMs: number, toMs: number, published: number): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (((await ingestHealth(deps)).journalBacklogBytes ?? 0) > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      continue;
    }
    const stored = await storedReadings(deps.influx, fromMs, toMs);
    if (stored >= published) return;
    if (Date.now() > deadline)
      throw new Error(
        `ingest stored ${stored} of ${published} readings in 5 minutes; is ingest running (npm run ingest)? see its log`,
      );
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function billingStep(deps: SeedDeps, step: DemoStep): Promise<void> {
  const billingDeps: BillingDeps = {
    pool: deps.pool,
    influx: deps.influx,
    config: deps.billing,
    log: deps.log,
    // The history is billed as the scheduler would have, at its place in the timeline; the running month now.
    now: () => (step.kind === 'draft' ? (deps.now?.() ?? Date.now()) : step.atMs),
  };
  if (step.kind === 'pay') {
    const { summary } = await payoutBatch(deps.pool, step.month, SEED_ACTOR, { create: true });
    const { alreadyPaid } = await markPaid(deps.pool, step.month, SEED_ACTOR);
    deps.progress(
      `billing: ${step.month} paid: ${summary.rows} transfers, ${rials(summary.totalRials)} (` +
        `${summary.withheld.beneficiaries} withheld without a Sheba), ` +
        `${summary.reconciles ? 'reconciles' : 'DOES NOT RECONCILE'}${alreadyPaid ? ' (already paid)' : ''}`,
    );
    if (!summary.reconciles) throw new Error(`the payout batch of ${step.month} does not reconcile`);
    return;
  }
  const db = await deps.pool.connect();
  const status = await monthStatus(db, step.month).finally(() => db.release());
  if (step.kind === 'close' && status !== null && status !== 'DRAFT') {
    deps.progress(`billing: ${step.month} already ${status.toLowerCase()}`);
    return;
  }
  const summary = await runMonth(billingDeps, step.month, { close: step.kind === 'close', actor: SEED_ACTOR });
  deps.progress(`billing: ${describeRun(summary)}`);
}

function describeRun(summary: RunSummary): string {
  const t = summary.totals;
  return (
    `${summary.month} ${summary.status === 'CLOSED' ? 'closed' : 'drafted to date'} in ` +
    `${summary.seconds.toFixed(1)} s: ${(t.energyWh / 1000).toLocaleString('en-US', { maximumFractionDigits: 0 })} ` +
    `kWh, gross ${rials(t.grossRials)}, payable ${rials(t.payableRials)} to ${t.beneficiaries} people, ${summary.adjustments} late-data adjustments`
  );
}
