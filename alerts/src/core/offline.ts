// offline and area outage. An inverter is offline when it has sent nothing for N minutes while the
// sun was up at its site the whole time (never at night). Many installations silent together in one
// area make one area alert instead of one per device. When data comes back, the device's own
// counter across the gap tells a communications gap (it kept producing) from a real outage.
import { clearSkyWhPerKwp, Daylight } from './clear-sky';
import { inverterShare, type RuleContext } from './context';
import { lostRialsPerDay, roundKwh } from './loss';
import type { ActiveAlert, Clearance, CounterAt, Evaluation, Finding, InstallationInfo, InverterInfo } from './types';

export interface GapEvidence {
  producedWh: number;
  expectedWh: number;
  /** true: the counter advanced as expected (communications only); null: cannot tell (no counter, reset, night). */
  communicationsOnly: boolean | null;
}

/** Below this clear-sky expectation (Wh) a gap proves nothing: it was mostly night. */
const MIN_EXPECTED_WH = 50;

export function gapEvidence(
  site: InstallationInfo,
  kwp: number,
  before: CounterAt | undefined,
  after: CounterAt | undefined,
  performanceRatio: number,
  commsOnlyPercent: number,
): GapEvidence | null {
  if (!before || !after || after.atMs <= before.atMs) return null;
  const producedWh = after.counterWh - before.counterWh;
  const expectedWh = clearSkyWhPerKwp(site, before.atMs, after.atMs, performanceRatio) * kwp;
  const conclusive = producedWh >= 0 && expectedWh >= MIN_EXPECTED_WH;
  return {
    producedWh: Math.round(producedWh),
    expectedWh: Math.round(expectedWh),
    communicationsOnly: conclusive ? producedWh >= (expectedWh * commsOnlyPercent) / 100 : null,
  };
}

export const areaOf = (i: InstallationInfo, cellDeg: number) => {
  const cell = (x: number) => (Math.floor(x / cellDeg) * cellDeg).toFixed(2);
  return `${i.provinceCode}:${cell(i.latitude)},${cell(i.longitude)}`;
};

interface Member {
  installationId: number;
  serial: string;
  lastReadingAt: number | null;
  lastCounterWh: number | null;
}

export function offlineRules(ctx: RuleContext): Evaluation {
  const { nowMs, installations, latest, lastBefore, resumed } = ctx.inputs;
  const config = ctx.config;
  const windowFrom = nowMs - config.offlineAfterMinutes * 60_000;
  const findings: Finding[] = [];
  const clearances: Clearance[] = [];

  const daylight = new Daylight(windowFrom, nowMs, config.sunUpElevationDeg);
  const sunUp = new Map<number, boolean>();
  const silent = new Map<number, InverterInfo[]>();
  for (const i of installations) {
    sunUp.set(i.id, daylight.isUp(i));
    const quiet = i.inverters.filter((v) => !latest.has(v.serial));
    if (quiet.length > 0) silent.set(i.id, quiet);
  }

  // Areas first: their members get no device alerts.
  const areas = new Map<string, { total: number; silent: InstallationInfo[] }>();
  for (const i of installations) {
    if (!sunUp.get(i.id) || i.inverters.length === 0) continue;
    const key = areaOf(i, config.areaCellDeg);
    let area = areas.get(key);
    if (!area) {
      area = { total: 0, silent: [] };
      areas.set(key, area);
    }
    area.total += 1;
    if (silent.get(i.id)?.length === i.inverters.length) area.silent.push(i);
  }
  const inArea = new Map<number, string>();
  for (const [area, { total, silent: quiet }] of areas) {
    if (quiet.length < config.areaMinInstallations || (quiet.length / total) * 100 < config.areaMinPercent) continue;
    const key = `AREA_OUTAGE:${area}`;
    const existing = ctx.activeByKey.get(key);
    const known = new Map(((existing?.detail.members as Member[] | undefined) ?? []).map((m) => [m.serial, m]));
    const members: Member[] = [];
    let kwh = 0;
    let rials = 0n;
    for (const i of quiet) {
      inArea.set(i.id, key);
      const expected = ctx.expectedKwhPerDay(i);
      kwh += expected;
      rials += lostRialsPerDay(roundKwh(expected), i.rate);
      for (const v of i.inverters) {
        const before = lastBefore.get(v.serial);
        members.push(
          known.get(v.serial) ?? {
            installationId: i.id,
            serial: v.serial,
            lastReadingAt: before?.atMs ?? null,
            lastCounterWh: before?.counterWh ?? null,
          },
        );
      }
    }
    findings.push({
      key,
      rule: 'AREA_OUTAGE',
      cause: existing?.cause ?? 'grid_or_telecom',
      severity: 'MAJOR',
      installationId: null,
      inverterId: null,
      provinceId: quiet[0]!.provinceId,
      area,
      affectedInstallations: quiet.length,
      summary: `${quiet.length} of ${total} installations in area ${area} silent for ${config.offlineAfterMinutes}+ min in daylight`,
      lostKwhPerDay: roundKwh(kwh),
      lostRialsPerDay: rials,
      rialPerKwh: null,
      detail: { installationsInArea: total, members },
    });
  }

  for (const i of installations) {
    const quiet = silent.get(i.id) ?? [];
    for (const v of quiet) {
      const key = `OFFLINE:inverter:${v.id}`;
      const existing = ctx.activeByKey.get(key);
      const area = inArea.get(i.id);
      if (area) {
        if (existing) clearances.push({ id: existing.id, key, cause: existing.cause, detail: { mergedInto: area } });
        continue;
      }
      // At night a silent device is expected: an open alert stays open, no new one opens.
      if (!existing && !sunUp.get(i.id)) continue;
      const before = lastBefore.get(v.serial);
      const detail = existing?.detail ?? {
        serial: v.serial,
        lastReadingAt: before?.atMs ?? null,
        lastCounterWh: before?.counterWh ?? null,
      };
      const since = typeof detail.lastReadingAt === 'number' ? new Date(detail.lastReadingAt).toISOString() : 'never';
      findings.push(
        ctx.inverterFinding(i, v, {
          key,
          rule: 'OFFLINE',
          cause: existing?.cause ?? 'outage',
          summary: `inverter ${v.serial} of ${i.code} silent in daylight (last reading ${since})`,
          detail,
        }),
      );
    }
  }

  clearances.push(...clearReturned(ctx, resumed));
  return { findings, clearances };
}

/** Offline and area alerts whose devices report again, labelled by their counters across the gap. */
function clearReturned(ctx: RuleContext, resumed: ReadonlyMap<string, CounterAt>): Clearance[] {
  const { installations, latest, active } = ctx.inputs;
  const config = ctx.config;
  const byInverter = new Map<number, { i: InstallationInfo; v: InverterInfo }>();
  const byId = new Map<number, InstallationInfo>();
  for (const i of installations) {
    byId.set(i.id, i);
    for (const v of i.inverters) byInverter.set(v.id, { i, v });
  }
  const evidence = (i: InstallationInfo, serial: string, ratedAcW: number, detail: Partial<Member>) =>
    gapEvidence(
      i,
      i.dcKwp * inverterShare(i, ratedAcW),
      typeof detail.lastReadingAt === 'number'
        ? { atMs: detail.lastReadingAt, counterWh: detail.lastCounterWh ?? 0 }
        : undefined,
      resumed.get(serial),
      config.clearSkyPerformanceRatio,
      config.commsOnlyEnergyPercent,
    );
  const out: Clearance[] = [];
  for (const alert of active as ActiveAlert[]) {
    if (alert.rule === 'OFFLINE') {
      const inverterId = Number(alert.key.split(':')[2]);
      const site = byInverter.get(inverterId);
      if (!site || !latest.has(site.v.serial)) continue;
      const gap = evidence(site.i, site.v.serial, site.v.ratedAcW, alert.detail as Partial<Member>);
      const cause = gap?.communicationsOnly ? 'communications' : alert.cause;
      out.push({ id: alert.id, key: alert.key, cause, detail: { ...alert.detail, gap } });
    } else if (alert.rule === 'AREA_OUTAGE') {
      const members = (alert.detail.members as Member[] | undefined) ?? [];
      const back = members.filter((m) => latest.has(m.serial));
      // The area clears when the rule no longer finds it (evaluate drops findings' keys from clearances).
      let producing = 0;
      let conclusive = 0;
      for (const m of back) {
        const i = byId.get(m.installationId);
        const v = i?.inverters.find((x) => x.serial === m.serial);
        if (!i || !v) continue;
        const gap = evidence(i, m.serial, v.ratedAcW, m);
        if (gap?.communicationsOnly === null || gap === null) continue;
        conclusive += 1;
        if (gap.communicationsOnly) producing += 1;
      }
      const cause = conclusive === 0 ? alert.cause : producing * 2 > conclusive ? 'telecom' : 'grid';
      out.push({
        id: alert.id,
        key: alert.key,
        cause,
        detail: { ...alert.detail, returned: back.length, conclusive, producedThroughGap: producing },
      });
    }
  }
  return out;
}
