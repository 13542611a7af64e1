// Turns one MQTT message into line-protocol lines for its valid readings and a list of rejections
// with reasons. Pure: the registry lookup and the clock are passed in.
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { parseReadingTimestamp, parseTopic, Reading, STATUS_PAYLOADS } from '../../lib/telemetry/contract';
import { MEASUREMENT } from '../../lib/influx/layout';
import { type Fields, encodeLine, msToNs } from './line-protocol';
import { fieldsKey, gapMisfit, type KnownReading, type KnownTimeline } from './history';

export interface RegisteredInverter {
  installation: string;
  province: string;
  ratedAcW: number;
  /** The latest replacement of the inverter an operator recorded (a new counter from then on). */
  replacedAtMs: number | null;
}
/** Judges valid readings' counters against the device's last accepted reading (counter-guard.ts). */
export interface CounterCheck {
  /** True: not newer than the last accepted reading (or none known): judge against the stored history. */
  needsHistory(serial: string, tMs: number): boolean;
  /** A reason to reject a reading newer than the last accepted one, or null (and it becomes the last). */
  admit(inverter: RegisteredInverter, serial: string, tMs: number, wh: number): string | null;
  /** The newest stored reading, read from the history when this worker knew none. */
  seed(serial: string, tMs: number, wh: number): void;
}
const ADMIT_ALL: CounterCheck = { needsHistory: () => false, admit: () => null, seed: () => undefined };
export type InverterLookup = (serial: string) => RegisteredInverter | undefined;

export interface ValidationLimits {
  maxPayloadBytes: number;
  maxReadingsPerMessage: number;
  maxClockAheadMs: number;
  powerTolerancePercent: number;
  /** Readings older than this are outside raw retention; InfluxDB would drop them. */
  retentionMs: number;
}

export const REJECT_REASONS = [
  'bad_topic',
  'payload_too_large',
  'packet_too_large',
  'malformed_json',
  'invalid_payload',
  'unknown_device',
  'invalid_reading',
  'implausible_value',
  'timestamp_in_future',
  'timestamp_too_old',
  'conflicting_reading',
  'rate_limited',
  'invalid_status',
  'processing_error',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface Rejection {
  reason: RejectReason;
  detail: string;
  topic: string;
  serial: string;
  payload: Buffer | string;
  payloadBytes: number;
  /** Readings of the message this record stands for (one record per message: no amplification). */
  readings?: number;
  /** Rejections of the same device not recorded since its last record (over its budget). */
  unrecordedBefore?: number;
}
/** A valid reading that waits for the device's stored history (history.ts) before it is judged. */
export interface DeferredReading {
  where: string;
  tMs: number;
  wh: number;
  key: string;
  line: string;
  candidate: unknown;
}
export interface ProcessedMessage {
  lines: string[];
  readings: number;
  rejections: Rejection[];
  /** Telemetry readings in `lines`, for the worker's memory of what it journaled. */
  accepted?: KnownReading[];
  /** Readings to judge against the stored history (judgeAgainstHistory) before the message is recorded. */
  deferred?: DeferredReading[];
  /** Readings already stored with the same values (redeliveries, re-sent buffers): not written again. */
  duplicates?: number;
  device?: { serial: string; inverter: RegisteredInverter };
}

const readingCheck = TypeCompiler.Compile(Reading);
const PAYLOAD_KEEP_BYTES = 16_384;
/** Nesting kept in an inspection copy; a reading itself is two levels deep (events). */
const PREVIEW_DEPTH = 16;

/**
 * JSON text of a parsed value for an inspection copy or a message: at most `maxChars`, nesting
 * below PREVIEW_DEPTH elided. JSON.stringify recurses without a bound and overflows the stack on
 * a payload of tens of thousands of nested arrays (which JSON.parse accepts).
 */
export function previewJson(value: unknown, maxChars: number): string {
  let out = '';
  const visit = (v: unknown, depth: number): void => {
    if (out.length > maxChars) return;
    if (Array.isArray(v) || (typeof v === 'object' && v !== null)) {
      const array = Array.isArray(v);
      if (depth >= PREVIEW_DEPTH) {
        out += array ? '[…]' : '{…}';
        return;
      }
      out += array ? '[' : '{';
      let first = true;
      for (const [key, item] of Object.entries(v)) {
        if (out.length > maxChars) break;
        out += `${first ? '' : ','}${array ? '' : `${JSON.stringify(key)}:`}`;
        first = false;
        visit(item, depth + 1);
      }
      out += array ? ']' : '}';
    } else out += JSON.stringify(v) ?? String(v);
  };
  visit(value, 0);
  return out.slice(0, maxChars);
}

/** Device text kept for inspection, on one line: line breaks shown as \n and \r. */
const singleLine = (text: string) => text.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function processMessage(
  topic: string,
  payload: Buffer,
  receivedAtMs: number,
  lookup: InverterLookup,
  limits: ValidationLimits,
  counters: CounterCheck = ADMIT_ALL,
): ProcessedMessage {
  const rejected = (reason: RejectReason, detail: string, serial = ''): ProcessedMessage => ({
    lines: [],
    readings: 0,
    rejections: [{ reason, detail, topic, serial, payload, payloadBytes: payload.length }],
  });

  const parsedTopic = parseTopic(topic);
  if (!parsedTopic.ok) return rejected('bad_topic', parsedTopic.detail);
  const { serial, kind } = parsedTopic;
  if (payload.length > limits.maxPayloadBytes) {
    return rejected(
      'payload_too_large',
      `payload is ${payload.length} bytes, the limit is ${limits.maxPayloadBytes}`,
      serial,
    );
  }
  const inverter = lookup(serial);
  if (!inverter) return rejected('unknown_device', `serial '${serial}' is not registered`, serial);
  const tags = { installation: inverter.installation, province: inverter.province, serial };

  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return rejected(kind === 'status' ? 'invalid_status' : 'malformed_json', 'payload is not valid UTF-8', serial);
  }

  if (kind === 'status') {
    const status = text.trim();
    if (!(STATUS_PAYLOADS as readonly string[]).includes(status)) {
      return rejected(
        'invalid_status',
        `status must be one of ${STATUS_PAYLOADS.join(', ')}, got '${status.slice(0, 40)}'`,
        serial,
      );
    }
    return {
      lines: [encodeLine(MEASUREMENT.deviceStatus, tags, { online: status === 'online' }, msToNs(receivedAtMs))],
      readings: 0,
      rejections: [],
    };
  }

  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return rejected('malformed_json', `payload is not JSON: ${(error as Error).message.slice(0, 200)}`, serial);
  }
  const candidates = Array.isArray(body) ? body : [body];
  if (candidates.length === 0) return rejected('invalid_payload', 'payload is an empty array', serial);
  if (candidates.length > limits.maxReadingsPerMessage) {
    return rejected(
      'invalid_payload',
      `payload has ${candidates.length} readings, the limit is ${limits.maxReadingsPerMessage}`,
      serial,
    );
  }

  const result: ProcessedMessage = {
    lines: [],
    readings: 0,
    rejections: [],
    accepted: [],
    deferred: [],
    duplicates: 0,
    device: { serial, inverter },
  };
  for (const [index, candidate] of candidates.entries()) {
    const where = Array.isArray(body) ? `reading [${index}]` : 'reading';
    const checked = checkReading(candidate, inverter, receivedAtMs, limits);
    if ('reason' in checked) {
      result.rejections.push(readingRejection(topic, serial, where, candidate, checked));
      continue;
    }
    const r = candidate as Reading;
    const fields = readingFields(r);
    const line = encodeLine(MEASUREMENT.telemetry, tags, fields, msToNs(checked.tsMs));
    const known = { tMs: checked.tsMs, wh: r.energy_wh_total, key: fieldsKey(fields) };
    if (counters.needsHistory(serial, checked.tsMs)) {
      result.deferred!.push({ where, ...known, line, candidate });
      continue;
    }
    const implausibleCounter = counters.admit(inverter, serial, checked.tsMs, r.energy_wh_total);
    if (implausibleCounter) {
      result.rejections.push(
        readingRejection(topic, serial, where, candidate, { reason: 'implausible_value', detail: implausibleCounter }),
      );
      continue;
    }
    result.lines.push(line);
    result.accepted!.push(known);
    result.readings += 1;
  }
  return result;
}

function readingFields(r: Reading): Fields {
  return {
    energy_wh_total: r.energy_wh_total,
    ac_power_w: r.ac_power_w,
    state: r.state,
    dc_voltage_v: r.dc_voltage_v,
    dc_current_a: r.dc_current_a,
    ac_voltage_v: r.ac_voltage_v,
    ac_frequency_hz: r.ac_frequency_hz,
    temperature_c: r.temperature_c,
    seq: r.seq === undefined ? undefined : { integer: r.seq },
    // JSON keeps every character of every event (commas, quotes, line breaks) and their order.
    events: r.events && r.events.length > 0 ? JSON.stringify(r.events) : undefined,
  };
}

function readingRejection(
  topic: string,
  serial: string,
  where: string,
  candidate: unknown,
  problem: { reason: RejectReason; detail: string },
): Rejection {
  const raw = previewJson(candidate, PAYLOAD_KEEP_BYTES);
  return {
    reason: problem.reason,
    detail: `${where}: ${problem.detail}`,
    topic,
    serial,
    payload: raw,
    payloadBytes: Buffer.byteLength(raw),
  };
}

/**
 * Judges the deferred readings of a message against the device's known history (stored, journaled,
 * and accepted earlier in this message): a duplicate is dropped, a conflict rejected with both
 * values, a gap fill kept only within physics from its neighbours; a reading newer than everything
 * known goes to the counter guard, seeded with the newest stored reading. Mutates and returns `result`.
 */
export function judgeAgainstHistory(
  result: ProcessedMessage,
  topic: string,
  timeline: KnownTimeline,
  counters: CounterCheck,
): ProcessedMessage {
  const { serial, inverter } = result.device!;
  for (const d of result.deferred!.splice(0)) {
    const { at, before, after } = timeline.around(d.tMs);
    let problem: { reason: RejectReason; detail: string } | null = null;
    if (at) {
      if (at.key === d.key) {
        result.duplicates = (result.duplicates ?? 0) + 1;
        continue;
      }
      problem = {
        reason: 'conflicting_reading',
        detail: `ts ${new Date(d.tMs).toISOString()} already has a stored reading (${at.key}); this one differs (${d.key}): the stored one stays`,
      };
    } else {
      // Newer than everything known (a first reading after a restart): the counter guard judges
      // it as it judges live readings, from the newest stored one.
      if (!after && before) counters.seed(serial, before.tMs, before.wh);
      const why =
        !after && (!before || !counters.needsHistory(serial, d.tMs))
          ? counters.admit(inverter, serial, d.tMs, d.wh)
          : gapMisfit(d.tMs, d.wh, timeline, {
              ratedAcW: inverter.ratedAcW,
              replacedAtMs: inverter.replacedAtMs,
            });
      if (why) problem = { reason: 'implausible_value', detail: why };
    }
    if (problem) {
      result.rejections.push(readingRejection(topic, serial, d.where, d.candidate, problem));
      continue;
    }
    const known = { tMs: d.tMs, wh: d.wh, key: d.key };
    timeline.insert(known);
    result.lines.push(d.line);
    result.accepted!.push(known);
    result.readings += 1;
  }
  return result;
}

type ReadingProblem = { reason: RejectReason; detail: string } | { tsMs: number };

function checkReading(
  candidate: unknown,
  inverter: RegisteredInverter,
  receivedAtMs: number,
  limits: ValidationLimits,
): ReadingProblem {
  if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) {
    return {
      reason: 'invalid_reading',
      detail: `expected an object, got ${candidate === null ? 'null' : Array.isArray(candidate) ? 'an array' : typeof candidate}`,
    };
  }
  if (!readingCheck.Check(candidate)) {
    const first = readingCheck.Errors(candidate).First();
    const field = first?.path ? first.path.slice(1).replace(/\//g, '.') : 'reading';
    const value = first?.value === undefined ? 'missing' : previewJson(first.value, 60);
    return { reason: 'invalid_reading', detail: `${field}: ${first?.message ?? 'invalid'} (got ${value})` };
  }
  const r = candidate as Reading;
  const ts = parseReadingTimestamp(r.ts);
  if (!ts.ok) return { reason: 'invalid_reading', detail: ts.detail };
  if (ts.ms > receivedAtMs + limits.maxClockAheadMs) {
    return {
      reason: 'timestamp_in_future',
      detail:
        `ts ${new Date(ts.ms).toISOString()} is ${Math.round((ts.ms - receivedAtMs) / 1000)} s ahead of the ` +
        `platform clock (limit ${limits.maxClockAheadMs / 1000} s)`,
    };
  }
  if (ts.ms < receivedAtMs - limits.retentionMs) {
    return {
      reason: 'timestamp_too_old',
      detail: `ts ${new Date(ts.ms).toISOString()} is older than the raw retention period`,
    };
  }
  const maxPowerW = (inverter.ratedAcW * limits.powerTolerancePercent) / 100;
  if (r.ac_power_w > maxPowerW) {
    return {
      reason: 'implausible_value',
      detail: `ac_power_w ${r.ac_power_w} exceeds ${limits.powerTolerancePercent} % of the inverter's rating (${inverter.ratedAcW} W)`,
    };
  }
  return { tsMs: ts.ms };
}

/**
 * One record for a message however many of its readings were rejected: the most frequent reason,
 * a count per reason and the first detail, and the message's own payload (truncated when encoded).
 * A flood of readings in one message costs one point, not one per reading.
 */
export function asOneRecord(rejections: Rejection[], payload: Buffer): Rejection | null {
  if (rejections.length <= 1) return rejections[0] ?? null;
  const counts = new Map<RejectReason, number>();
  for (const r of rejections) counts.set(r.reason, (counts.get(r.reason) ?? 0) + 1);
  const [reason] = [...counts].reduce((best, entry) => (entry[1] > best[1] ? entry : best));
  const first = rejections[0]!;
  return {
    reason,
    detail: `${rejections.length} readings rejected (${[...counts].map(([r, n]) => `${r} ×${n}`).join(', ')}); first: ${first.detail.slice(0, 500)}`,
    topic: first.topic,
    serial: first.serial,
    payload,
    payloadBytes: payload.length,
    readings: rejections.length,
  };
}

/** A rejection as a `rejected_message` line; the raw payload is kept (truncated) for inspection. */
export function encodeRejection(rejection: Rejection, worker: string, timestampNs: string): string {
  const { payload } = rejection;
  let kept: string;
  if (typeof payload === 'string') kept = payload.slice(0, PAYLOAD_KEEP_BYTES);
  else {
    // Only the kept head is decoded (a flood of 1 MB messages costs no more than small ones); a
    // cut inside a UTF-8 character is moved back to its start.
    let head = payload.subarray(0, PAYLOAD_KEEP_BYTES);
    if (payload.length > PAYLOAD_KEEP_BYTES)
      for (let back = 0; back < 3 && head.length > 0 && (head[head.length - 1]! & 0xc0) === 0x80; back++)
        head = head.subarray(0, head.length - 1);
    if (payload.length > PAYLOAD_KEEP_BYTES && head.length > 0 && head[head.length - 1]! >= 0xc0)
      head = head.subarray(0, head.length - 1);
    try {
      kept = utf8.decode(head).slice(0, PAYLOAD_KEEP_BYTES);
    } catch {
      kept = `base64:${payload.subarray(0, PAYLOAD_KEEP_BYTES).toString('base64')}`;
    }
  }
  return encodeLine(
    MEASUREMENT.rejectedMessage,
    { reason: rejection.reason, worker },
    {
      detail: singleLine(rejection.detail),
      topic: singleLine(rejection.topic.slice(0, 256)),
      serial: rejection.serial,
      payload: singleLine(kept),
      payload_bytes: { integer: rejection.payloadBytes },
      truncated: rejection.payloadBytes > PAYLOAD_KEEP_BYTES,
      readings: { integer: rejection.readings ?? 1 },
      unrecorded_before: rejection.unrecordedBefore ? { integer: rejection.unrecordedBefore } : undefined,
    },
    timestampNs,
  );
}
