// The evaluator's reads: the registry and tariffs from PostgreSQL, readings from InfluxDB. A few
// fleet-wide queries per evaluation (newest reading per serial in the offline window; daily
// counters for the history, cached for the day), plus targeted ones for the silent and the returned.
import type pg from 'pg';
import { rateOn, type ContractTerms, type StepDown } from '../../billing/index';
import { influxString, type InfluxClient } from '../../lib/influx/client';
import { sunUpThroughout, tehranDate, tehranMidnight } from './core/clear-sky';
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

export async function readRegistry(db: pg.ClientBase | pg.Pool, nowMs: number, stepDowns: readonly StepDown[]) {
  const today = tehranDate(nowMs);
  const { rows: installations } = await db.query<{
    id: number;
    code: string;
    provinceId: number;
    provinceCode: string;
    latitude: number;
    longitude: number;
    dcKwp: number;
    tiltDeg: number | null;
  }>(
    `SELECT i.id, i.code, i.province_id AS "provinceId", p.code AS "provinceCode", i.latitude::float8 AS latitude,
            i.longitude::float8 AS longitude, i.dc_capacity_kwp::float8 AS "dcKwp", i.tilt_deg::float8 AS "tiltDeg"
       FROM installations i JOIN provinces p ON p.id = i.province_id
      WHERE i.status = 'COMMISSIONED' ORDER BY i.id`,
  );
  const { rows: inverters } = await db.query<{ id: number; serial: string; ratedAcW: number; installationId: number }>(
    `SELECT v.id, v.serial, v.rated_ac_w AS "ratedAcW", v.installation_id AS "installationId"
       FROM inverters v JOIN installations i ON i.id = v.installation_id
      WHERE v.status = 'ACTIVE' AND i.status = 'COMMISSIONED' ORDER BY v.id`,
  );
  const { rows: tariffs } = await db.query<{
    installationId: number;
    reference: string;
    kind: 'ORDINARY' | 'SUPPORT';
    startDate: string;
    from: string;
    until: string | null;
    rialPerKwh: number;
  }>(
    `SELECT c.installation_id AS "installationId", c.reference, c.kind::text AS kind,
            to_char(c.start_date, 'YYYY-MM-DD') AS "startDate", to_char(t.effective_from, 'YYYY-MM-DD') AS "from",
            to_char(t.effective_until, 'YYYY-MM-DD') AS "until", t.rial_per_kwh AS "rialPerKwh"
       FROM contracts c JOIN tariff_periods t ON t.contract_id = c.id
       JOIN installations i ON i.id = c.installation_id AND i.status = 'COMMISSIONED'
      WHERE c.start_date <= $1::date ORDER BY c.installation_id, c.start_date, t.effective_from`,
    [today],
  );
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

/** The newest reading of every serial that sent one in (from, to]. */
export async function readLatest(influx: InfluxClient, fromMs: number, toMs: number) {
  const [series = []] = await influx.query(
    `SELECT "energy_wh_total", "state", "events" FROM "raw"."telemetry" WHERE time > ${fromMs}ms AND time <= ${toMs}ms GROUP BY "serial" ORDER BY time DESC LIMIT 1`,
  );
  const latest = new Map<string, LatestReading>();
  for (const s of series) {
    const [time, counter, state, events] = s.values[0] as [number, number, string, string | null];
    latest.set(s.tags!.serial!, {
      atMs: time,
      counterWh: counter,
      state,
      events: events ? events.split(',') : [],
    });
  }
  return latest;
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
      `SELECT last("energy_wh_total") FROM "raw"."telemetry" WHERE time > ${beforeMs - LAST_READING_LOOKBACK_MS}ms AND time <= ${beforeMs}ms AND "serial" =~ /^(${regex})$/ GROUP BY "serial"`,
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
 * Energy per installation per complete Tehran day from the daily rollup's last counter of each day:
 * a day counts when every inverter of the installation has that day and the day before, and no
 * counter went backwards (a replaced inverter's day is left out rather than guessed).
 */
export async function readDailyEnergy(
  influx: InfluxClient,
  installations: InstallationInfo[],
  nowMs: number,
  days: number,
): Promise<Map<number, DayEnergy[]>> {
  const today = tehranDate(nowMs);
  const from = tehranMidnight(today) - (days + 1) * DAY_MS;
  const [series = []] = await influx.query(
    `SELECT "energy_wh_total" FROM "daily"."telemetry" WHERE time >= ${from}ms AND time < ${tehranMidnight(today)}ms GROUP BY "serial"`,
  );
  const counters = new Map<string, Map<string, number>>();
  for (const s of series) {
    const byDay = new Map<string, number>();
    for (const [time, counter] of s.values as [number, number | null][])
      if (counter !== null) byDay.set(tehranDate(time), counter);
    counters.set(s.tags!.serial!, byDay);
  }
  const dates = Array.from({ length: days }, (_, k) => tehranDate(tehranMidnight(today) - (days - k) * DAY_MS));
  const out = new Map<number, DayEnergy[]>();
  for (const i of installations) {
    const list: DayEnergy[] = [];
    for (const date of dates) {
      const previous = tehranDate(tehranMidnight(date) - DAY_MS);
      let wh = 0;
      let complete = i.inverters.length > 0;
      for (const v of i.inverters) {
        const c = counters.get(v.serial);
        const end = c?.get(date);
        const start = c?.get(previous);
        if (end === undefined || start === undefined || end < start) {
          complete = false;
          break;
        }
        wh += end - start;
      }
      if (complete) list.push({ date, wh });
    }
    if (list.length > 0) out.set(i.id, list);
  }
  return out;
}

/** Everything evaluate() needs at `nowMs`. The daily history is passed in (it is cached per day). */
export async function readInputs(
  influx: InfluxClient,
  installations: InstallationInfo[],
  daily: Map<number, DayEnergy[]>,
  active: ActiveAlert[],
  nowMs: number,
  config: RuleConfig,
): Promise<EvaluationInputs> {
  const windowFrom = nowMs - config.offlineAfterMinutes * 60_000;
  const latest = await readLatest(influx, windowFrom, nowMs);
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
  const silent = installations
    .filter((i) => sunUpThroughout(i, windowFrom, nowMs, config.sunUpElevationDeg))
    .flatMap((i) => i.inverters.map((v) => v.serial))
    .filter((s) => !latest.has(s) && !known.has(s));
  const [lastBefore, resumed] = await Promise.all([
    readLastBefore(influx, silent, windowFrom),
    readFirstAfter(influx, gaps, nowMs),
  ]);
  return { nowMs, installations, latest, lastBefore, resumed, daily, active, config };
}
