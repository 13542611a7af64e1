// Reporting but not producing: an inverter that keeps sending readings (STANDBY, 0 W) while its
// counter stays flat in daylight, when its neighbours produce: a tripped DC breaker, a stuck relay,
// a datalogger reading a dead inverter. Silent-outage rules never see it (it reports), the fault
// rule neither (no FAULT state or event), and a 7-day yield average dilutes a few hours away. It is
// an OFFLINE alert (same key, same window as a silent outage: income stops either way) with the
// label `not_producing`.
import type { RuleContext } from './context';
import type { Evaluation, Finding, InstallationInfo, LatestReading } from './types';

/** Readings arrive every few minutes: readings flat over the window less one interval are flat over it. */
const REPORTING_SLACK_MS = 5 * 60_000;
/** States that explain a flat counter by themselves: FAULT has its own rule, THROTTLED is curtailment. */
const EXPLAINED_STATES = new Set(['FAULT', 'THROTTLED']);

export const NOT_PRODUCING = 'not_producing';

interface Neighbours {
  reporting: number;
  producing: number;
}

export function notProducingRule(ctx: RuleContext): Evaluation {
  const { installations, latest } = ctx.inputs;
  const daylight = ctx.daylight;
  const config = ctx.config;
  const flatAfterMs = config.offlineAfterMinutes * 60_000 - REPORTING_SLACK_MS;
  const faultEvents = new Set(config.faultEvents);
  // Flat means readings show it: from the first reading with the counter's value to the newest
  // (a device that merely stopped reporting is the silent rule's, however old its last reading).
  const isProducing = (r: LatestReading) => r.atMs - r.flatSinceMs < flatAfterMs;

  // Neighbours that report: by area (the same sky) and by province (when the area has too few).
  const byArea = new Map<string, Neighbours>();
  const byProvince = new Map<number, Neighbours>();
  const count = <K>(map: Map<K, Neighbours>, key: K, producing: boolean) => {
    let n = map.get(key);
    if (!n) {
      n = { reporting: 0, producing: 0 };
      map.set(key, n);
    }
    n.reporting += 1;
    if (producing) n.producing += 1;
  };
  const candidates: { i: InstallationInfo; v: InstallationInfo['inverters'][number]; r: LatestReading }[] = [];
  for (const i of installations) {
    if (!daylight.isUp(i)) continue;
    const area = ctx.areaKey(i);
    for (const v of i.inverters) {
      const r = latest.get(v.serial);
      if (!r) continue;
      count(byArea, area, isProducing(r));
      count(byProvince, i.provinceId, isProducing(r));
      const flatSince = effectiveFlatSince(ctx, v.id, r);
      if (
        r.atMs - flatSince >= flatAfterMs &&
        !EXPLAINED_STATES.has(r.state) &&
        !r.events.some((e) => faultEvents.has(e))
      )
        candidates.push({ i, v, r: { ...r, flatSinceMs: flatSince } });
    }
  }

  const findings: Finding[] = [];
  for (const { i, v, r } of candidates) {
    // Do the neighbours produce? (Itself excluded.) Too few in the area: the province; none: the sun.
    const others = (n: Neighbours | undefined) =>
      n ? { reporting: n.reporting - 1, producing: n.producing } : { reporting: 0, producing: 0 };
    let peers = others(byArea.get(ctx.areaKey(i)));
    if (peers.reporting < config.minPeers) peers = others(byProvince.get(i.provinceId));
    if (peers.reporting >= config.minPeers && peers.producing * 2 < peers.reporting) continue;
    const since = new Date(r.flatSinceMs).toISOString();
    findings.push(
      ctx.inverterFinding(i, v, {
        key: `OFFLINE:inverter:${v.id}`,
        rule: 'OFFLINE',
        cause: NOT_PRODUCING,
        summary: `inverter ${v.serial} of ${i.code} reporting but not producing (state ${r.state}, counter flat since ${since})`,
        detail: {
          serial: v.serial,
          state: r.state,
          readingAt: r.atMs,
          counterWh: r.counterWh,
          flatSince: r.flatSinceMs,
          peersReporting: peers.reporting,
          peersProducing: peers.producing,
        },
      }),
    );
  }
  return { findings, clearances: [] };
}

/**
 * A device that comes back from a silence with its counter where it stopped has not produced since
 * its last reading before the silence (kept by its open alert), not merely since it came back.
 */
function effectiveFlatSince(ctx: RuleContext, inverterId: number, r: LatestReading): number {
  const detail = ctx.activeByKey.get(`OFFLINE:inverter:${inverterId}`)?.detail;
  const before = detail?.lastReadingAt;
  const counter = detail?.lastCounterWh;
  if (typeof before === 'number' && typeof counter === 'number' && r.counterWh - counter < 1)
    return Math.min(before, r.flatSinceMs);
  return r.flatSinceMs;
}
