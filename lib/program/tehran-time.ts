// The program's clock. Its days, months and hours are Tehran's (Asia/Tehran); instants are stored
// in UTC. Iran has kept UTC+03:30 all year since 2022 (no summer time), so a Tehran day is the UTC
// day shifted by three and a half hours: the fast arithmetic below, the InfluxDB rollups' buckets
// and the simulators use that. What needs the zone's history (the Solar Hijri months through ICU,
// node-cron, PostgreSQL's AT TIME ZONE, Grafana) names the zone. Both live here and nowhere else.

/** The IANA zone of the program's clock (Intl, node-cron, PostgreSQL, Grafana). */
export const TEHRAN_TIME_ZONE = 'Asia/Tehran';

/** Tehran's offset from UTC (+03:30, all year since 2022). */
export const TEHRAN_UTC_OFFSET_MS = 210 * 60_000;

const DAY_MS = 86_400_000;

/** The Tehran date (YYYY-MM-DD) of an instant. */
export const tehranDate = (ms: number): string => new Date(ms + TEHRAN_UTC_OFFSET_MS).toISOString().slice(0, 10);

/** The instant Tehran's day `date` (YYYY-MM-DD) starts. */
export const tehranMidnight = (date: string): number => Date.parse(`${date}T00:00:00Z`) - TEHRAN_UTC_OFFSET_MS;

/** The Tehran hour (0-23) of an instant. */
export const tehranHour = (ms: number): number => new Date(ms + TEHRAN_UTC_OFFSET_MS).getUTCHours();

/** Milliseconds since Tehran's midnight at an instant. */
export const sinceTehranMidnightMs = (ms: number): number => (((ms + TEHRAN_UTC_OFFSET_MS) % DAY_MS) + DAY_MS) % DAY_MS;
