// The evaluator's reads: the registry and tariffs (through the registry's entry), and the targeted
// InfluxDB reads (last reading before a silence, first after a gap, with the replacements recorded
// through billing's entry); the fleet-wide ones are in telemetry-cache.ts.
import type pg from 'pg';
import { rateOn, type ContractTerms, type StepDown } from '../../lib/program/tariff';
import { influxString, type InfluxClient } from '../../lib/influx/client';
import { tehranDate } from '../../lib/program/tehran-time';
import {
  activeInvertersOfCommissioned,
  commissionedInstallations,
  commissionedTariffs,
  pricedRegistryFingerprint,
} from '../../registry/index';
import { latestReplacements, replacementsSince } from '../../billing/index';
import { Daylight } from './core/clear-sky';
import type {
  ActiveAlert,
  CounterAt,
  DayEnergy,
  EvaluationInputs,
  InstallationInfo,
  LatestReading,
  RuleConfig,
} from './core/types';

const DAY_MS = 86_400_000;
/** How far back the last reading before a silence is looked for. */
const LAST_READING_LOOKBACK_MS = 7 * DAY_MS;
/** Serials per regex or statements per request in targeted queries. */
const BATCH = 200;
const REGISTRY_MAX_AGE_MS = 3_600_000;

export async function readRegistry(db: pg.ClientBase | pg.Pool, nowMs: number, stepDowns: readonly StepDown[]) {
  const today = tehranDate(nowMs);
  const installations = await commissionedInstallations(db);
  const inverters = await activeInvertersOfCommissioned(db);
  const tariffs = await commissionedTariffs(db, today);
  const contracts = new Map<number, ContractTerms[]>();
  for (const t of tariffs) {
    const list = contracts.get(t.installationId) ?? [];
    let c = list.find((x) => x.reference === t.reference);
    if (!c) {
      c = { reference: t.reference, kind: t.kind, startDate: t.startDate, periods: [] };
      list.push(c);
      contracts.set(t.installationId, list);
    }
    c.periods.push({ from: t.from, until: t.until, rialPerKwh: t.rialPerKwh });
  }
  const byId = new Map<number, InstallationInfo>();
  const result: InstallationInfo[] = installations.map((i) => {
    // The latest contract with a tariff in force today prices the loss.
    const rate =
      (contracts.get(i.id) ?? [])
        .map((c) => rateOn(c, today, stepDowns))
        .filter((r) => r !== null)
        .pop() ?? null;
    const info: InstallationInfo = { ...i, rate, inverters: [] };
    byId.set(i.id, info);
    return info;
  });
  for (const v of inverters)
    byId.get(v.installationId)?.inverters.push({ id: v.id, serial: v.serial, ratedAcW: v.ratedAcW });
  return result;
}

/**
 * The registry as the evaluator needs it, read again only when it may have changed: a new Tehran
 * day (tariffs are priced by date), a changed fingerprint of the tables it reads, or an hour passed.
 */
export class PricedInstallationsCache {
  private cached: { day: string; fingerprint: string; at: number; installations: InstallationInfo[] } | null = null;

  constructor(private readonly stepDowns: readonly StepDown[]) {}

  async get(db: pg.ClientBase, nowMs: number): Promise<InstallationInfo[]> {
    const fingerprint = await pricedRegistryFingerprint(db);
    const day = tehranDate(nowMs);
    const c = this.cached;
    if (c && c.day === day && c.fingerprint === fingerprint && Math.abs(nowMs - c.at) < REGISTRY_MAX_AGE_MS)
      return c.installations;
    const installations = await readRegistry(db, nowMs, this.stepDowns);
    this.cached = { day, fingerprint, at: nowMs, installations };
    return installations;
  }
}

/** The last reading at or before `beforeMs` of each serial (looked for over the previous week). */
export async function readLastBefore(influx: InfluxClient, serials: string[], beforeMs: number) {
  const out = new Map<string, CounterAt>();
  for (let k = 0; k < serials.length; k += BATCH) {
    const regex = serials
      .slice(k, k + BATCH)
      .map((s) => s.replace(/[.]/g, '\\.'))
      .join('|');
    const [series = []] = await influx.query(
      `SELECT last("energy_wh_total") FROM "raw"."telemetry" WHERE time > ${beforeMs - LAST_READING_LOOKBACK_MS}` +
        `ms AND time <= ${beforeMs}ms AND "serial" =~ /^(${regex})$/ GROUP BY "serial"`,
    );
    for (const s of series) {
      const [time, counter] = s.values[0] as [number, number];
      out.set(s.tags!.serial!, { atMs: time, counterWh: counter });
    }
  }
  return out;
}

/** The first reading after each gap's last reading: what the device's counter said when it came back. */
export async function readFirstAfter(influx: InfluxClient, gaps: { serial: string; afterMs: number }[], toMs: number) {
  const out = new Map<string, CounterAt>();
  for (let k = 0; k < gaps.length; k += BATCH) {
    const batch = gaps.slice(k, k + BATCH);
    const statements = batch.map(
      (g) =>
        `SELECT first("energy_wh_total") FROM "raw"."telemetry" WHERE time > ${g.afterMs}ms AND time <= ${toMs}ms AND "serial" = ${influxString(g.serial)}`,
    );
    const results = await influx.query(statements.join('; '));
    results.forEach((series, n) => {
      const row = series[0]?.values[0] as [number, number] | undefined;
      if (row) out.set(batch[n]!.serial, { atMs: row[0], counterWh: row[1] });
    });
  }
  return out;
}

/**
 * When each serial was replaced (as operators recorded it through billing) at or after `fromMs`:
 * the daily history leaves out the days across a replacement.
 */
export async function readReplacedSince(db: pg.ClientBase | pg.Pool, fromMs: number) {
  const replaced = await replacementsSince(db, fromMs);
  return new Map([...replaced].map(([serial, list]) => [serial, list.map((r) => r.atMs)]));
}

/** Everything evaluate() needs at `nowMs`, given the newest readings and the daily history. */
export async function readInputs(
  db: pg.ClientBase | pg.Pool,
  influx: InfluxClient,
  installations: InstallationInfo[],
  latest: Map<string, LatestReading>,
  daily: Map<number, DayEnergy[]>,
  active: ActiveAlert[],
  gapHistory: EvaluationInputs['gapHistory'],
  nowMs: number,
  config: RuleConfig,
): Promise<EvaluationInputs> {
  const windowFrom = nowMs - config.offlineAfterMinutes * 60_000;
  const known = new Set<string>();
  const gaps: { serial: string; afterMs: number }[] = [];
  for (const a of active) {
    const members =
      a.rule === 'OFFLINE'
        ? [a.detail as { serial?: string; lastReadingAt?: number | null }]
        : a.rule === 'AREA_OUTAGE'
          ? ((a.detail.members ?? []) as { serial?: string; lastReadingAt?: number | null }[])
          : [];
    for (const m of members) {
      if (!m.serial) continue;
      known.add(m.serial);
      if (latest.has(m.serial) && typeof m.lastReadingAt === 'number')
        gaps.push({ serial: m.serial, afterMs: m.lastReadingAt });
    }
  }
  // Only silent inverters in daylight that no alert already describes need their last reading.
  const daylight = new Daylight(windowFrom, nowMs, config.sunUpElevationDeg);
  const silent = installations
    .filter((i) => daylight.isUp(i))
    .flatMap((i) => i.inverters.map((v) => v.serial))
    .filter((s) => !latest.has(s) && !known.has(s));
  const [lastBefore, resumed, replaced] = await Promise.all([
    readLastBefore(influx, silent, windowFrom),
    readFirstAfter(influx, gaps, nowMs),
    gaps.length > 0 ? latestReplacements(db, [...new Set(gaps.map((g) => g.serial))]) : new Map(),
  ]);
  const replacedAtMs = new Map([...replaced].map(([serial, r]) => [serial, r.atMs]));
  return { nowMs, installations, latest, lastBefore, resumed, replacedAtMs, daily, active, gapHistory, config };
}
