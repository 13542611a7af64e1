// What the rules read and what they decide: plain data, no clients.
import type { CommissionedInstallation } from '../../../lib/program/commissioned-installation';
import type { Rate } from '../../../lib/program/tariff';

// The rules, severities, states and causes are declared here once: PostgreSQL's enums are checked
// against them (types.test.ts), and the API's schemas are made from them.
export const ALERT_RULES = ['OFFLINE', 'AREA_OUTAGE', 'FAULT', 'UNDERPERFORMING', 'METER_SHORTFALL'] as const;
export type AlertRule = (typeof ALERT_RULES)[number];
export const ALERT_SEVERITIES = ['MAJOR', 'MINOR', 'WARNING'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];
/** OPEN and ACKNOWLEDGED are active; CLEARED closed itself, RESOLVED was closed by a person. */
export const ALERT_STATES = ['OPEN', 'ACKNOWLEDGED', 'CLEARED', 'RESOLVED'] as const;
export type AlertState = (typeof ALERT_STATES)[number];
export const ACTIVE_STATES = ['OPEN', 'ACKNOWLEDGED'] as const satisfies readonly AlertState[];
/**
 * The cause labels each rule writes (README, "Rules"). A FAULT is labelled with the device's first
 * fault event, lower-cased (`ground_fault`), or `fault` without one.
 */
export const ALERT_CAUSES = {
  OFFLINE: ['outage', 'communications', 'not_producing'],
  AREA_OUTAGE: ['grid_or_telecom', 'grid', 'telecom'],
  FAULT: ['fault'],
  UNDERPERFORMING: ['soiling', 'equipment'],
  METER_SHORTFALL: ['export_meter'],
} as const satisfies Record<AlertRule, readonly string[]>;
export type AlertCause<R extends AlertRule = AlertRule> = (typeof ALERT_CAUSES)[R][number];
/** The rules the evaluator owns: it opens and closes these; other rules are raised by other components. */
export const EVALUATED_RULES: readonly AlertRule[] = ['OFFLINE', 'AREA_OUTAGE', 'FAULT', 'UNDERPERFORMING'];

export interface InverterInfo {
  id: number;
  serial: string;
  ratedAcW: number;
}
/** A commissioned installation (as the registry reads it) with what the rules price and count with. */
export interface InstallationInfo extends CommissionedInstallation {
  /** The tariff in force today (with the contract year's step-down), or null without a contract. */
  rate: Pick<Rate, 'rialPerKwh' | 'percent'> | null;
  inverters: InverterInfo[];
}

/** The newest reading of an inverter within the offline window. */
export interface LatestReading {
  atMs: number;
  counterWh: number;
  state: string;
  events: string[];
  /**
   * Since when the counter has not advanced: the time of the first reading that showed its current
   * value (as far back as the evaluator has followed this serial without a gap in its readings).
   */
  flatSinceMs: number;
}
/** A reading that bounds a gap: the last before it, or the first after it. */
export interface CounterAt {
  atMs: number;
  counterWh: number;
}
/** Energy an installation produced on one complete Tehran day. */
export interface DayEnergy {
  date: string;
  wh: number;
}

/** An active alert as the evaluator needs it. */
export interface ActiveAlert {
  id: bigint;
  key: string;
  rule: AlertRule;
  cause: string;
  detail: Record<string, unknown>;
}

export interface Finding {
  key: string;
  rule: AlertRule;
  cause: string;
  severity: AlertSeverity;
  installationId: number | null;
  inverterId: number | null;
  provinceId: number;
  area: string | null;
  affectedInstallations: number;
  summary: string;
  lostKwhPerDay: number;
  lostRialsPerDay: bigint;
  rialPerKwh: number | null;
  detail: Record<string, unknown>;
}

/** An active alert whose cause went away, with its final label (e.g. re-labelled `communications`). */
export interface Clearance {
  id: bigint;
  key: string;
  cause: string;
  detail: Record<string, unknown>;
}

export interface RuleConfig {
  /** An inverter silent this long while the sun is up at its site is offline. */
  offlineAfterMinutes: number;
  /** The sun counts as up above this elevation (dataloggers powered by the panels sleep below it). */
  sunUpElevationDeg: number;
  /** Across a gap, a counter that advanced by at least this share of the clear-sky expectation means it was only communications. */
  commsOnlyEnergyPercent: number;
  /** Area outage: installations silent together in one area (grid cell of this size, within a province). */
  areaCellDeg: number;
  areaMinInstallations: number;
  areaMinPercent: number;
  /** An open area alert stays open while at least this share of its members is still silent (hysteresis). */
  areaKeepPercent: number;
  /** Events that are faults (state FAULT always is; THROTTLED never is). */
  faultEvents: readonly string[];
  /** Underperforming: specific yield over the window below the peers' by more than this. */
  underperformingPercent: number;
  /** ... and below this share of the site's clear-sky expected yield. */
  underperformingClearSkyPercent: number;
  windowDays: number;
  minDays: number;
  minPeers: number;
  peerTiltToleranceDeg: number;
  /** Performance ratio applied to clear-sky plane-of-array irradiance to get expected energy. */
  clearSkyPerformanceRatio: number;
  /** Soiling: a decline against peers at least this steep (percent per day) and not one step. */
  soilingMinSlopePercentPerDay: number;
  /** Soiling is reported once its decline against peers (a significant trend) costs this share. */
  soilingDetectPercent: number;
  /** Severity MAJOR from this share of the expected energy lost. */
  majorLossPercent: number;
}

/** How past silences turned out once data returned (counter evidence): real outages or only communications. */
export interface GapOutcomes {
  outages: number;
  communications: number;
}

export interface EvaluationInputs {
  nowMs: number;
  installations: InstallationInfo[];
  /** Newest reading per serial in (now − offline window, now]; absent = silent. */
  latest: ReadonlyMap<string, LatestReading>;
  /** Last reading before the silence, for silent serials (absent if never seen). */
  lastBefore: ReadonlyMap<string, CounterAt>;
  /** First reading after an open offline alert's gap, for serials reporting again. */
  resumed: ReadonlyMap<string, CounterAt>;
  /**
   * The latest replacement an operator recorded (ms), for serials reporting again: a counter across
   * it is two inverters' and tells nothing of the gap.
   */
  replacedAtMs: ReadonlyMap<string, number>;
  /** Complete days, oldest first, per installation id (history for peers and soiling). */
  daily: ReadonlyMap<number, DayEnergy[]>;
  active: ActiveAlert[];
  /** Silences of one inverter (OFFLINE) and of an area (AREA_OUTAGE) closed with evidence, recently. */
  gapHistory: { device: GapOutcomes; area: GapOutcomes };
  config: RuleConfig;
}

export interface Evaluation {
  findings: Finding[];
  clearances: Clearance[];
}
