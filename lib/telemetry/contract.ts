// Telemetry contract v1 (see ingest/README.md): what an inverter publishes, shared by the
// simulators that produce it and the ingest service that validates it.
import { Type, type Static } from '@sinclair/typebox';
import { isCalendarDate } from '../calendar';

export const TOPIC_PREFIX = 'solar/v1';
export const SERIAL_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
/** SERIAL_PATTERN in words, for the API's schema and the import's errors. */
export const SERIAL_RULE =
  "1-64 letters, digits, '_', '.' or '-', starting with a letter or digit (no ':', so a serial can never be a service's svc:... broker account)";
const serialRegex = new RegExp(SERIAL_PATTERN);

export const INVERTER_STATES = [
  'OFF',
  'SLEEPING',
  'STARTING',
  'MPPT',
  'THROTTLED',
  'SHUTTING_DOWN',
  'FAULT',
  'STANDBY',
] as const;
export type InverterState = (typeof INVERTER_STATES)[number];

export const telemetryTopic = (serial: string): string => `${TOPIC_PREFIX}/${serial}/telemetry`;
export const statusTopic = (serial: string): string => `${TOPIC_PREFIX}/${serial}/status`;
/**
 * Where ingest confirms a device's messages it has journaled (its own acknowledgement point), for a
 * publisher that asked (MQTT 5 response topic = this topic, correlation data = the message's id). Outside
 * `solar/v1/` so ingest never receives its own confirmations; only the serial's gateway may subscribe
 * (its broker role). The broker's PUBACK is not enough: Mosquitto acknowledges before it persists, so
 * a broker crash loses what it had acknowledged and not yet delivered (gateway/README.md).
 */
export const STORED_TOPIC_PREFIX = 'solar/stored/v1';
export const storedTopic = (serial: string): string => `${STORED_TOPIC_PREFIX}/${serial}`;
/** A correlation id ingest echoes: printable ASCII, short (a device cannot make ingest publish much). */
export const CORRELATION_ID_PATTERN = /^[!-~]{1,64}$/;
/** The payload of a confirmation on `storedTopic(serial)`: the ids of the messages journaled. */
export interface StoredConfirmation {
  stored: string[];
}

/** Ingest takes the whole v1 namespace, so a message on a malformed topic is rejected visibly instead of never being routed. */
export const INGEST_SUBSCRIPTION = `${TOPIC_PREFIX}/#`;

/**
 * The payload limit, stated once. A datalogger flushing a week of 5-minute readings sends ~2,000
 * readings (~0.5 MB); 1 MiB holds ~5,000. Ingest records anything larger as `payload_too_large`
 * (INGEST_MAX_PAYLOAD_BYTES may only lower it); the broker's `max_packet_size` (ops/setup.sh,
 * checked against this by ops/test/broker-limits.test.ts) is twice it, so an oversized message
 * still reaches ingest to be recorded against its serial, while no packet can make the broker
 * buffer more than 2 MiB; beyond that the broker disconnects the client (MQTT 5 clients are told
 * the limit at connect). A device's rate is bounded by its fair share (`fair-share.ts`).
 */
export const MAX_PAYLOAD_BYTES = 1_048_576;
export const BROKER_MAX_PACKET_BYTES = 2 * MAX_PAYLOAD_BYTES;
/** Readings in one array message (ingest's INGEST_MAX_READINGS_PER_MESSAGE defaults to it). */
export const MAX_READINGS_PER_MESSAGE = 5000;

export type TopicKind = 'telemetry' | 'status';
export type ParsedTopic = { ok: true; serial: string; kind: TopicKind } | { ok: false; detail: string };

export function parseTopic(topic: string): ParsedTopic {
  const parts = topic.split('/');
  if (parts.length !== 4 || `${parts[0]}/${parts[1]}` !== TOPIC_PREFIX) {
    return { ok: false, detail: `topic '${topic.slice(0, 200)}' is not ${TOPIC_PREFIX}/{serial}/telemetry|status` };
  }
  const [, , serial = '', kind] = parts;
  if (!serialRegex.test(serial))
    return { ok: false, detail: `serial '${serial.slice(0, 80)}' does not match ${SERIAL_PATTERN}` };
  if (kind !== 'telemetry' && kind !== 'status')
    return { ok: false, detail: `unknown message kind '${String(kind).slice(0, 40)}'` };
  return { ok: true, serial, kind };
}

/**
 * How far one `energy_wh_total` reading may be off the true count, in Wh: one step of a 0.1 kWh
 * register, the coarsest resolution common in inverter loggers. Two readings may therefore disagree
 * by twice this; billing's counter model takes that as noise (billing/README.md, "The counter model").
 */
export const ENERGY_READING_TOLERANCE_WH = 100;

const finite = (min: number, max: number, description: string) =>
  Type.Number({ minimum: min, maximum: max, description });

/** One reading. Unknown extra fields are ignored (forward compatibility), known ones are checked. */
export const Reading = Type.Object({
  ts: Type.Union([Type.String({ maxLength: 40 }), Type.Integer()], {
    description: 'RFC 3339 string or epoch milliseconds (device clock)',
  }),
  energy_wh_total: finite(0, 1e13, 'lifetime AC energy counter, Wh; each reading within ±100 Wh of the true count'),
  ac_power_w: finite(0, 1e9, 'instantaneous AC power, W'),
  state: Type.Union(INVERTER_STATES.map((s) => Type.Literal(s))),
  dc_voltage_v: Type.Optional(finite(0, 2000, 'DC voltage, V')),
  dc_current_a: Type.Optional(finite(0, 5000, 'DC current, A')),
  ac_voltage_v: Type.Optional(finite(0, 1000, 'AC voltage, V')),
  ac_frequency_hz: Type.Optional(finite(0, 100, 'AC frequency, Hz')),
  temperature_c: Type.Optional(finite(-60, 150, 'inverter temperature, °C')),
  seq: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
  events: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 32 })),
});
export type Reading = Static<typeof Reading>;

export const STATUS_PAYLOADS = ['online', 'offline'] as const;

// RFC 3339 with a mandatory offset; Date.parse alone accepts many looser forms, and rolls
// impossible dates over (2024-02-31 becomes 2 March, T24:00 the next day) instead of refusing them.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-](\d{2}):(\d{2}))$/;

const MAX_EPOCH_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export type ParsedTimestamp = { ok: true; ms: number } | { ok: false; detail: string };

export function parseReadingTimestamp(ts: string | number): ParsedTimestamp {
  if (typeof ts === 'number') {
    // Year 2000 in ms; a device sending seconds lands far below it.
    if (ts < 946_684_800_000)
      return {
        ok: false,
        detail: `ts ${ts} is before 2000-01-01 in epoch milliseconds${ts > 946_684_800 && ts < 10_000_000_000 ? ' (looks like seconds)' : ''}`,
      };
    if (ts > MAX_EPOCH_MS) return { ok: false, detail: `ts ${ts} is after 9999-12-31 in epoch milliseconds` };
    return { ok: true, ms: ts };
  }
  const m = RFC3339.exec(ts);
  if (!m) return { ok: false, detail: `ts '${ts}' is not an RFC 3339 timestamp with an offset` };
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (!isCalendarDate(year, month, day)) return { ok: false, detail: `ts '${ts}' is not a calendar date` };
  if (hour > 23 || minute > 59 || second > 59 || Number(m[9] ?? 0) > 23 || Number(m[10] ?? 0) > 59)
    return { ok: false, detail: `ts '${ts}' is not a time of day (hours 00-23, minutes and seconds 00-59)` };
  const ms = Date.parse(ts);
  if (Number.isNaN(ms)) return { ok: false, detail: `ts '${ts}' is not a valid date` };
  return { ok: true, ms };
}
