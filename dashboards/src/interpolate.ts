// What Grafana does to a query before its datasource sees it, for the three datasources the
// dashboards use: global variables ($__interval, $__from, ...), each datasource's macros
// ($timeFilter for InfluxQL; $__timeFilter(), $__timeGroup() ... for SQL; $__rate_interval for
// Prometheus) and template variables, formatted per datasource (multi-value: a regex group for
// InfluxQL and PromQL, a quoted list for SQL). The tests run the dashboards' queries through it
// against the real databases. Pure.

export interface TimeRange {
  fromMs: number;
  toMs: number;
}

/** A variable's current selection; `all` when "All" is selected (no custom all value is used). */
export interface Selection {
  values: string[];
  multi: boolean;
  includeAll: boolean;
}

export interface QueryContext {
  range: TimeRange;
  /** The panel's $__interval in ms (see `grafanaInterval`). */
  intervalMs: number;
  variables: Map<string, Selection>;
}

// Grafana's rangeutil.roundInterval: an interval becomes the nearest "nice" one.
const NICE: [number, number][] = [
  [15, 10],
  [35, 20],
  [75, 50],
  [150, 100],
  [350, 200],
  [750, 500],
  [1_500, 1_000],
  [3_500, 2_000],
  [7_500, 5_000],
  [12_500, 10_000],
  [17_500, 15_000],
  [25_000, 20_000],
  [45_000, 30_000],
  [90_000, 60_000],
  [210_000, 120_000],
  [450_000, 300_000],
  [750_000, 600_000],
  [1_050_000, 900_000],
  [1_500_000, 1_200_000],
  [2_700_000, 1_800_000],
  [5_400_000, 3_600_000],
  [9_000_000, 7_200_000],
  [16_200_000, 10_800_000],
  [32_400_000, 21_600_000],
  [86_400_000, 43_200_000],
  [604_800_000, 86_400_000],
  [1_814_400_000, 604_800_000],
];
export function roundInterval(ms: number): number {
  for (const [limit, nice] of NICE) if (ms <= limit) return nice;
  return 2_592_000_000;
}

/** $__interval as Grafana computes it: range / max data points, rounded, at least the datasource's minimum. */
export function grafanaInterval(range: TimeRange, maxDataPoints: number, minIntervalMs: number): number {
  return Math.max(roundInterval((range.toMs - range.fromMs) / maxDataPoints), minIntervalMs);
}

/** Grafana's interval text: 30s, 5m, 1h, 1d. */
export function intervalText(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

const escapeRegex = (value: string) => value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');
const quoteSql = (value: string) => `'${value.replace(/'/g, "''")}'`;

type Formatter = (selection: Selection) => string;
const regexGroup: Formatter = (s) =>
  s.multi || s.includeAll ? `(${s.values.map(escapeRegex).join('|')})` : (s.values[0] ?? '');
const sqlList: Formatter = (s) => (s.multi || s.includeAll ? s.values.map(quoteSql).join(',') : (s.values[0] ?? ''));

function globals(query: string, ctx: QueryContext): string {
  const interval = intervalText(ctx.intervalMs);
  const table: Record<string, string> = {
    __interval_ms: String(ctx.intervalMs),
    __interval: interval,
    interval,
    __from: String(ctx.range.fromMs),
    __to: String(ctx.range.toMs),
    __range_ms: String(ctx.range.toMs - ctx.range.fromMs),
    __range_s: String(Math.round((ctx.range.toMs - ctx.range.fromMs) / 1000)),
    __range: `${Math.round((ctx.range.toMs - ctx.range.fromMs) / 1000)}s`,
  };
  return query.replace(
    /\$\{(__\w+|interval)\}|\$(__interval_ms|__interval|__from|__to|__range_ms|__range_s|__range|interval)\b/g,
    (m, a, b) => table[a ?? b] ?? m,
  );
}

/** Template variables: $name, ${name} and [[name]]; a name Grafana does not know stays as written. */
function templateVariables(query: string, ctx: QueryContext, format: Formatter): string {
  return query.replace(/\$\{(\w+)\}|\$(\w+)|\[\[(\w+)\]\]/g, (match, a, b, c) => {
    const selection = ctx.variables.get(a ?? b ?? c);
    return selection ? format(selection) : match;
  });
}

export function interpolateInfluxQL(query: string, ctx: QueryContext): string {
  const timeFilter = `time >= ${ctx.range.fromMs}ms and time <= ${ctx.range.toMs}ms`;
  const q = globals(query.replace(/\$timeFilter\b|\$\{timeFilter\}/g, timeFilter), ctx);
  return templateVariables(q, ctx, regexGroup);
}

const iso = (ms: number) => `'${new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')}'`;
const durationMs = (text: string): number => {
  const m = /^'?(\d+)(ms|s|m|h|d|w)'?$/.exec(text.trim());
  if (!m) throw new Error(`not a Grafana interval: ${text}`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 'ms'];
  return Number(m[1]) * unit;
};

/** The PostgreSQL datasource's macros (Grafana's sqleng), then variables as quoted lists. */
export function interpolateSql(query: string, ctx: QueryContext): string {
  const { fromMs, toMs } = ctx.range;
  const args = (s: string) => s.split(',').map((a) => a.trim());
  let q = globals(templateVariables(query, ctx, sqlList), ctx);
  q = q.replace(/\$__timeFilter\(([^)]*)\)/g, (_m, col) => `${col.trim()} BETWEEN ${iso(fromMs)} AND ${iso(toMs)}`);
  q = q.replace(/\$__timeFrom\(\)/g, iso(fromMs)).replace(/\$__timeTo\(\)/g, iso(toMs));
  q = q.replace(
    /\$__unixEpochFilter\(([^)]*)\)/g,
    (_m, col) => `${col.trim()} >= ${Math.floor(fromMs / 1000)} AND ${col.trim()} <= ${Math.floor(toMs / 1000)}`,
  );
  q = q.replace(/\$__timeGroup(Alias)?\(([^)]*)\)/g, (_m, alias, inner) => {
    const [col, interval] = args(inner);
    const seconds = durationMs(interval ?? '') / 1000;
    const group = `floor(extract(epoch from ${col})/${seconds})*${seconds}`;
    return alias ? `${group} AS "time"` : group;
  });
  if (/\$__\w+\(/.test(q)) throw new Error(`a SQL macro this emulation does not know: ${q}`);
  return q;
}

/** PromQL: $__rate_interval is max($__interval + scrape interval, 4 × scrape interval). */
export function interpolatePromQL(query: string, ctx: QueryContext, scrapeIntervalMs: number): string {
  const rate = intervalText(Math.max(ctx.intervalMs + scrapeIntervalMs, 4 * scrapeIntervalMs));
  const q = globals(query.replace(/\$__rate_interval\b|\$\{__rate_interval\}/g, rate), ctx);
  return templateVariables(q, ctx, regexGroup);
}
