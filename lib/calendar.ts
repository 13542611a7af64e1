// Gregorian calendar checks shared by every boundary that accepts a date (telemetry, API, imports).
// Date.parse and new Date() roll impossible dates over (2024-02-31 becomes 2 March) instead of
// refusing them.

/** Whether year-month-day is a day of the (proleptic Gregorian) calendar. */
export function isCalendarDate(year: number, month: number, day: number): boolean {
  if (!Number.isInteger(year) || month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** A YYYY-MM-DD text that names a real day. */
export function isIsoDay(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  return m !== null && isCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]));
}
