// offline and area outage. An inverter is offline when it has sent nothing for N minutes while the
// sun was up at its site the whole time (never at night). Many installations silent together in one
// area make one area alert instead of one per device. When data comes back, the device's own
// counter across the gap tells a communications gap (it kept producing) from a real outage.
import { clearSkyWhPerKwp } from './clear-sky';
import { inverterShare, type RuleContext } from './context';
import { lostRialsPerDay, roundKwh } from './loss';
import { NOT_PRODUCING } from './not-producing';
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
  replacedAtMs?: number,
): GapEvidence | null {
  if (!before || !after || after.atMs <= before.atMs) return null;
  // An inverter replaced in the gap: the old counter before it, the new one after (a used inverter's
  // may be far above the old one's, as if it had produced through the gap).
  if (replacedAtMs !== undefined && replacedAtMs > before.atMs && replacedAtMs <= after.atMs) return null;
  const producedWh = after.counterWh - before.counterWh;
  const expectedWh = clearSkyWhPerKwp(site, before.atMs, after.atMs, performanceRatio) * kwp;
  const conclusive = producedWh >= 0 && expectedWh >= MIN_EXPECTED_WH;
  return {
    producedWh: Math.round(producedWh),
    expectedWh: Math.round(expectedWh),
    communicationsOnly: conclusive ? producedWh >= (expectedWh * commsOnlyPercent) / 100 : null,
  };
}

const UNKNOWN_LOSS = 'loss unknown until data returns';
/** The evidence of a silence's price: what an outage would lose, and the chance that it is one. */
const unknownLoss = (chance: { probability: number; basis: string }, outageRialsPerDay: bigint) => ({
  loss: UNKNOWN_LOSS,
  outageRialsPerDay: outageRialsPerDay.toString(),
  outageProbability: Math.round(chance.probability * 1000) / 1000,
  outageProbabilityBasis: chance.basis,
});

interface Member {
  installationId: number;
  serial: string;
  lastReadingAt: number | null;
  lastCounterWh: number | null;
}

export function offlineRules(ctx: RuleContext): Evaluation {
  const { installations, latest, lastBefore, resumed } = ctx.inputs;
  const config = ctx.config;
  const findings: Finding[] = [];
  const clearances: Clearance[] = [];

  const daylight = ctx.daylight;
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
    const key = ctx.areaKey(i);
    let area = areas.get(key);
    if (!area) {
      area = { total: 0, silent: [] };
      areas.set(key, area);
    }
    area.total += 1;
    if (silent.get(i.id)?.length === i.inverters.length) area.silent.push(i);
  }
  // An open area alert keeps its members (everyone silent with it since it opened) and stays open,
  // day or night, while at least ALERTS_AREA_KEEP_PERCENT of them are still silent: sites come back
  // one by one, and the area is one outage until they are back. Then the stragglers are judged one
  // by one, with the last reading the area alert kept for them.
  const byId = new Map(installations.map((i) => [i.id, i]));
  const isSilent = (i: InstallationInfo) => silent.get(i.id)?.length === i.inverters.length;
  const inArea = new Map<number, string>();
  const areaMembers = new Map<string, Member>();
  const areaKeys = new Set<string>();
  for (const [area, { total, silent: quiet }] of areas)
    if (quiet.length >= config.areaMinInstallations && (quiet.length / total) * 100 >= config.areaMinPercent)
      areaKeys.add(`AREA_OUTAGE:${area}`);
  for (const a of ctx.inputs.active) if (a.rule === 'AREA_OUTAGE') areaKeys.add(a.key);
  for (const key of areaKeys) {
    const area = key.slice('AREA_OUTAGE:'.length);
    const existing = ctx.activeByKey.get(key);
    const known = new Map(((existing?.detail.members as Member[] | undefined) ?? []).map((m) => [m.serial, m]));
    for (const m of known.values()) areaMembers.set(m.serial, m);
    const members: Member[] = [...known.values()];
    const memberIds = new Set(members.map((m) => m.installationId));
    for (const i of areas.get(area)?.silent ?? []) {
      if (memberIds.has(i.id)) continue;
      memberIds.add(i.id);
      for (const v of i.inverters) {
        const before = lastBefore.get(v.serial);
        members.push({
          installationId: i.id,
          serial: v.serial,
          lastReadingAt: before?.atMs ?? null,
          lastCounterWh: before?.counterWh ?? null,
        });
      }
    }
    const quiet = [...memberIds].map((id) => byId.get(id)).filter((i): i is InstallationInfo => !!i && isSilent(i));
    const keepAtLeast = Math.max(1, Math.ceil((memberIds.size * config.areaKeepPercent) / 100));
    if (quiet.length === 0 || quiet.length < keepAtLeast) continue;
    // Income at risk while the counters are unknown: the outage's loss × the chance it is one.
    const chance = ctx.outageChance('area');
    let kwh = 0;
    let rials = 0n;
    let outageRials = 0n;
    for (const i of quiet) {
      inArea.set(i.id, key);
      const expected = ctx.expectedKwhPerDay(i);
      kwh += expected * chance.probability;
      rials += lostRialsPerDay(roundKwh(expected * chance.probability), i.rate);
      outageRials += lostRialsPerDay(roundKwh(expected), i.rate);
    }
    const total = areas.get(area)?.total ?? memberIds.size;
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
      summary: `${
        quiet.length === memberIds.size
          ? `${quiet.length} of ${total} installations in area ${area} silent for ${config.offlineAfterMinutes}+ min in daylight`
          : `${quiet.length} of the ${memberIds.size} installations of the outage in area ${area} still silent`
      }; ${UNKNOWN_LOSS}`,
      lostKwhPerDay: roundKwh(kwh),
      lostRialsPerDay: rials,
      rialPerKwh: null,
      detail: {
        installationsInArea: total,
        members,
        ...unknownLoss(chance, outageRials),
      },
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
      // A straggler of an area outage: its last reading is the one the area alert kept.
      const kept = areaMembers.get(v.serial);
      const before =
        lastBefore.get(v.serial) ??
        (typeof kept?.lastReadingAt === 'number'
          ? { atMs: kept.lastReadingAt, counterWh: kept.lastCounterWh ?? 0 }
          : undefined);
      const detail = existing?.detail ?? {
        serial: v.serial,
        lastReadingAt: before?.atMs ?? null,
        lastCounterWh: before?.counterWh ?? null,
      };
      // A dead inverter that was reporting (not_producing) and now is silent too keeps its label,
      // and its loss is known; a silence's loss is unknown until data returns.
      const last = detail.lastReadingAt ?? detail.readingAt;
      const since = typeof last === 'number' ? new Date(last).toISOString() : 'never';
      const cause = existing?.cause ?? 'outage';
      const known = cause === NOT_PRODUCING;
      const chance = known ? null : ctx.outageChance('device');
      const finding = ctx.inverterFinding(
        i,
        v,
        {
          key,
          rule: 'OFFLINE',
          cause,
          summary: `inverter ${v.serial} of ${i.code} silent in daylight (last reading ${since})${known ? '' : `; ${UNKNOWN_LOSS}`}`,
          detail,
        },
        chance?.probability ?? 1,
      );
      if (chance) {
        const outage = ctx.inverterFinding(i, v, { key, rule: 'OFFLINE', cause, summary: '', detail });
        finding.detail = { ...detail, ...unknownLoss(chance, outage.lostRialsPerDay) };
      }
      findings.push(finding);
    }
  }

  clearances.push(...clearReturned(ctx, resumed));
  return { findings, clearances };
}

/** Offline and area alerts whose devices report again, labelled by their counters across the gap. */
function clearReturned(ctx: RuleContext, resumed: ReadonlyMap<string, CounterAt>): Clearance[] {
  const { installations, latest, active, replacedAtMs } = ctx.inputs;
  const config = ctx.config;
  const byInverter = new Map<number, { i: InstallationInfo; v: InverterInfo }>();
  const byId = new Map<number, InstallationInfo>();
  for (const i of installations) {
    byId.set(i.id, i);
    for (const v of i.inverters) byInverter.set(v.id, { i, v });
  }
  const windowMs = config.offlineAfterMinutes * 60_000;
  const evidence = (i: InstallationInfo, serial: string, ratedAcW: number, detail: Partial<Member>) => {
    const before =
      typeof detail.lastReadingAt === 'number'
        ? { atMs: detail.lastReadingAt, counterWh: detail.lastCounterWh ?? 0 }
        : undefined;
    // A datalogger that kept recording through the silence flushes its buffer when its link is
    // back: the first reading after the gap is then minutes after the last one before it, and the
    // counter's story is told across the whole silence, up to the newest reading.
    const first = resumed.get(serial);
    const newest = latest.get(serial);
    const after = before && first && newest && first.atMs - before.atMs < windowMs ? newest : first;
    return gapEvidence(
      i,
      i.dcKwp * inverterShare(i, ratedAcW),
      before,
      after,
      config.clearSkyPerformanceRatio,
      config.commsOnlyEnergyPercent,
      replacedAtMs.get(serial),
    );
  };
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
