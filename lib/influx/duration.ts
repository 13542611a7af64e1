/** Parses an InfluxQL duration such as `400d`, `52w`, `12h` or `INF` into milliseconds. */
export function parseDurationMs(duration: string): number {
  if (/^inf$/i.test(duration)) return Number.POSITIVE_INFINITY;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
  let total = 0;
  const rest = duration.replace(/(\d+)(ms|s|m|h|d|w)/g, (_all, n: string, unit: string) => {
    total += Number(n) * units[unit]!;
    return '';
  });
  if (rest !== '' || total === 0) throw new Error(`'${duration}' is not an InfluxQL duration such as 400d, 52w or INF`);
  return total;
}
