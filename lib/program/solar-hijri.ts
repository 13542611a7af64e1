// Billing months are Solar Hijri months in Asia/Tehran, written YYYY-MM (1405-08 = Aban 1405).
// Dates come from Node's ICU Persian calendar; instants are UTC milliseconds. Iran observed
// daylight saving time until 2022, so a month's midnight is resolved with the offset in force then.
// Pure: no clock, no environment.
import { TEHRAN_TIME_ZONE, TEHRAN_UTC_OFFSET_MS } from './tehran-time';

export type MonthId = string;

const persianParts = new Intl.DateTimeFormat('en-US-u-ca-persian-nu-latn', {
  timeZone: TEHRAN_TIME_ZONE,
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
});
const persianUtc = new Intl.DateTimeFormat('en-US-u-ca-persian-nu-latn', {
  timeZone: 'UTC',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
});
const tehranOffset = new Intl.DateTimeFormat('en-US', { timeZone: TEHRAN_TIME_ZONE, timeZoneName: 'longOffset' });

function parts(format: Intl.DateTimeFormat, ms: number): { year: number; month: number; day: number } {
  const out = { year: 0, month: 0, day: 0 };
  for (const p of format.formatToParts(new Date(ms)))
    if (p.type === 'year' || p.type === 'month' || p.type === 'day') out[p.type] = Number.parseInt(p.value, 10);
  return out;
}

export function parseMonth(id: string): { year: number; month: number } {
  const m = /^(\d{4})-(\d{2})$/.exec(id);
  if (!m) throw new RangeError(`'${id}' is not a Solar Hijri month written YYYY-MM, e.g. 1405-08`);
  const year = Number(m[1]);
  const month = Number(m[2]);
  if (month < 1 || month > 12) throw new RangeError(`'${id}': the month must be 01 to 12`);
  if (year < 1300 || year > 1500) throw new RangeError(`'${id}': the year must be between 1300 and 1500`);
  return { year, month };
}

export const formatMonth = (year: number, month: number): MonthId => `${year}-${String(month).padStart(2, '0')}`;
export const nextMonth = (id: MonthId) => {
  const { year, month } = parseMonth(id);
  return month === 12 ? formatMonth(year + 1, 1) : formatMonth(year, month + 1);
};
export const previousMonth = (id: MonthId) => {
  const { year, month } = parseMonth(id);
  return month === 1 ? formatMonth(year - 1, 12) : formatMonth(year, month - 1);
};

/** The Gregorian civil day (UTC midnight ms) of 1 Farvardin of a Solar Hijri year. */
function nowruzDay(year: number): number {
  for (const day of [19, 20, 21, 22]) {
    const ms = Date.UTC(year + 621, 2, day);
    const p = parts(persianUtc, ms + 43_200_000);
    if (p.year === year && p.month === 1 && p.day === 1) return ms;
  }
  throw new RangeError(`no Nowruz found for ${year}`);
}

/** The civil day (UTC midnight ms) on which a month begins. */
function firstDay(year: number, month: number): number {
  const days = month <= 7 ? (month - 1) * 31 : 186 + (month - 7) * 30;
  return nowruzDay(year) + days * 86_400_000;
}

function offsetMs(instant: number): number {
  const name = tehranOffset.formatToParts(new Date(instant)).find((p) => p.type === 'timeZoneName')?.value ?? '';
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000 : TEHRAN_UTC_OFFSET_MS;
}

/** The instant of local midnight in Tehran at the start of a civil day. */
function tehranMidnight(civilDayUtcMs: number): number {
  let guess = civilDayUtcMs - offsetMs(civilDayUtcMs);
  guess = civilDayUtcMs - offsetMs(guess); // the offset in force at that midnight (DST until 2022)
  return guess;
}

export interface MonthBounds {
  month: MonthId;
  startMs: number;
  endMs: number;
  days: number;
}

// Months are few (1300-1500) and their bounds never change: computed once each, since ICU look-ups
// cost about half a millisecond per month and the portal names a dozen months per page.
const boundsCache = new Map<MonthId, MonthBounds>();

/** [startMs, endMs) of a billing month: local midnight of its first day to that of the next month's. */
export function monthBounds(id: MonthId): MonthBounds {
  const cached = boundsCache.get(id);
  if (cached) return { ...cached };
  const bounds = computeMonthBounds(id);
  boundsCache.set(id, bounds);
  return { ...bounds };
}

function computeMonthBounds(id: MonthId): MonthBounds {
  const { year, month } = parseMonth(id);
  const startDay = firstDay(year, month);
  const endDay = month === 12 ? nowruzDay(year + 1) : firstDay(year, month + 1);
  return {
    month: id,
    startMs: tehranMidnight(startDay),
    endMs: tehranMidnight(endDay),
    days: Math.round((endDay - startDay) / 86_400_000),
  };
}

export interface BillingDay {
  date: string;
  startMs: number;
  endMs: number;
}

/** The month's days: Tehran civil dates (YYYY-MM-DD, Gregorian, how PostgreSQL DATE columns hold them) and their [start, end) instants. */
export function monthDays(id: MonthId): BillingDay[] {
  const { year, month } = parseMonth(id);
  const startDay = firstDay(year, month);
  const { days } = monthBounds(id);
  const civilDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return daysBetween(civilDate(startDay), civilDate(startDay + days * 86_400_000));
}

/** The billing month an instant belongs to (Tehran time). */
export function monthOf(instantMs: number): MonthId {
  const p = parts(persianParts, instantMs);
  return formatMonth(p.year, p.month);
}

/**
 * A Solar Hijri date as people and the distribution company write it (`1405/07/01`, `1405-7-1`,
 * Persian or Arabic-Indic digits already converted by the caller) → its Tehran civil date in the
 * Gregorian calendar (YYYY-MM-DD, how PostgreSQL DATE columns hold it).
 */
export function solarHijriDate(text: string): string {
  const m = /^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$/.exec(text.trim());
  if (!m) throw new RangeError(`'${text}' is not a Solar Hijri date written YYYY/MM/DD, e.g. 1405/07/01`);
  const month = formatMonth(Number(m[1]), Number(m[2]));
  const dates = monthDates(month);
  const day = Number(m[3]);
  if (day < 1 || day > dates.length) throw new RangeError(`'${text}': ${month} has days 1 to ${dates.length}`);
  return dates[day - 1]!;
}

// A settlement file names the same few months thousands of times, a statement page its month on
// every request; ICU is slow (monthDays asks it four times a day, 0.3 ms a month), so each month's
// dates are computed once (the calendar never changes, so the cache is never stale).
const datesOfMonth = new Map<MonthId, readonly string[]>();
/** A billing month's Tehran civil dates (YYYY-MM-DD), first to last. */
export function monthDates(month: MonthId): readonly string[] {
  let dates = datesOfMonth.get(month);
  if (!dates) {
    dates = monthDays(month).map((d) => d.date);
    datesOfMonth.set(month, dates);
  }
  return dates;
}

/** The Tehran civil day after a date (YYYY-MM-DD). */
export const nextDate = (date: string) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/** The days [from, until) as billing days with their instants (Tehran midnights). */
export function daysBetween(from: string, until: string): BillingDay[] {
  const out: BillingDay[] = [];
  for (let civil = Date.parse(`${from}T00:00:00Z`); civil < Date.parse(`${until}T00:00:00Z`); civil += 86_400_000)
    out.push({
      date: new Date(civil).toISOString().slice(0, 10),
      startMs: tehranMidnight(civil),
      endMs: tehranMidnight(civil + 86_400_000),
    });
  return out;
}
// Names for people, from the same ICU Persian calendar (fa-IR-u-ca-persian, Tehran time).
const faMonthName = new Intl.DateTimeFormat('fa-IR-u-ca-persian', { timeZone: TEHRAN_TIME_ZONE, month: 'long' });
const faYear = new Intl.NumberFormat('fa-IR', { useGrouping: false });
const faDay = new Intl.DateTimeFormat('fa-IR-u-ca-persian', {
  timeZone: TEHRAN_TIME_ZONE,
  day: 'numeric',
  month: 'long',
  year: 'numeric',
});

const namesCache = new Map<MonthId, string>();

/** A billing month as Persian readers write it: 1405-07 → «مهر ۱۴۰۵». */
export function monthNameFa(id: MonthId): string {
  let name = namesCache.get(id);
  if (name === undefined) {
    const { startMs, endMs } = monthBounds(id);
    name = `${faMonthName.format(new Date((startMs + endMs) / 2))} ${faYear.format(parseMonth(id).year)}`;
    namesCache.set(id, name);
  }
  return name;
}

/** A day in the Persian calendar, Tehran time: «۴ آذر ۱۴۰۵». */
export const dayNameFa = (instantMs: number) => faDay.format(new Date(instantMs));
