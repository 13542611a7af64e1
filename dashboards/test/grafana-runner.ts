// Runs a dashboard's queries the way Grafana would: resolves its query variables in order (each
// query run, the default or a chosen value kept), substitutes macros and variables per datasource,
// and executes against the real InfluxDB, PostgreSQL (as the read-only role) and Prometheus. Used
// by the dashboards test (which checks shapes) and the benchmark (which times them).
import pg from 'pg';
import type { InfluxClient, InfluxSeries } from '../../lib/influx/client';
import { asOwner, env } from '../../testing/services';
import { DATASOURCES, type DatasourceKind } from '../src/grafana';
import {
  grafanaInterval,
  interpolateInfluxQL,
  interpolatePromQL,
  interpolateSql,
  type QueryContext,
  type Selection,
} from '../src/interpolate';
import {
  allPanels,
  type DashboardJson,
  type PanelJson,
  queryText,
  type TargetJson,
  type VariableJson,
  variableQueryText,
} from '../src/lint';
import { ensureReaderRole, readReaderAccount } from '../src/reader-role';

const H = 3_600_000;
/** ops/setup.sh's Prometheus scrape interval, which is the datasource's timeInterval. */
export const SCRAPE_MS = 5_000;
/** The provisioned datasources' minimum intervals (timeInterval). */
export const MIN_INTERVAL_MS: Record<DatasourceKind, number> = {
  influx: 10_000,
  postgres: 60_000,
  prometheus: SCRAPE_MS,
};

/** A pool on `databaseUrl`'s database as Grafana connects: the dashboards' read-only role (ops/bootstrap.ts makes it). */
export async function readerPool(databaseUrl: string, max = 2): Promise<pg.Pool> {
  const account = readReaderAccount(env);
  const owner = new pg.Client({ connectionString: asOwner(databaseUrl) }); // roles are the owner's business
  await owner.connect();
  try {
    await ensureReaderRole(owner, account);
  } finally {
    await owner.end();
  }
  const url = new URL(databaseUrl);
  url.username = account.username;
  url.password = account.password;
  return new pg.Pool({ connectionString: url.toString(), max });
}

/** What a query returned, reduced to what shape checks need. */
export interface Result {
  series: number;
  rows: number;
  columns: Set<string>;
  values: unknown[];
}

export interface PromSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

/** The dashboard's own default time range (now-1h, now-7d, now-1y ... to now). */
export function defaultRange(dashboard: DashboardJson & { time?: { from?: string } }): QueryContext['range'] {
  const m = /^now-(\d+)([hdwy])$/.exec(dashboard.time?.from ?? '');
  if (!m) throw new Error(`unexpected default time range ${dashboard.time?.from}`);
  const unit = { h: H, d: 24 * H, w: 7 * 24 * H, y: 365 * 24 * H }[m[2] as 'h'];
  const toMs = Date.now();
  return { fromMs: toMs - Number(m[1]) * unit, toMs };
}

/** A panel's relative time override (`timeFrom: 7d`) replaces the range, ending now, as in Grafana. */
export function panelRange(panel: PanelJson, range: QueryContext['range']): QueryContext['range'] {
  const m = /^(\d+)([hdw])$/.exec(panel.timeFrom ?? '');
  if (!panel.timeFrom) return range;
  if (!m) throw new Error(`unexpected panel time override ${panel.timeFrom}`);
  const unit = { h: H, d: 24 * H, w: 7 * 24 * H }[m[2] as 'h'];
  return { fromMs: range.toMs - Number(m[1]) * unit, toMs: range.toMs };
}

/** Datasource kind of a `${var}` reference. */
export function kindOf(uid: string | undefined): DatasourceKind {
  const name = /^\$\{(\w+)\}$/.exec(uid ?? '')?.[1];
  if (!name || !(name in DATASOURCES)) throw new Error(`not a datasource variable: ${uid}`);
  return name as DatasourceKind;
}

function fromInflux(series: InfluxSeries[]): Result {
  const columns = new Set<string>();
  const values: unknown[] = [];
  let rows = 0;
  for (const s of series) {
    for (const c of s.columns) columns.add(c);
    for (const t of Object.keys(s.tags ?? {})) columns.add(t);
    rows += s.values.length;
    for (const v of s.values) values.push(...v.slice(1));
  }
  return { series: series.length, rows, columns, values };
}

export interface PanelQuery {
  panel: PanelJson;
  target: TargetJson;
  kind: DatasourceKind;
  text: string;
  ctx: QueryContext;
}

export class GrafanaRunner {
  constructor(
    private readonly influx: InfluxClient,
    private readonly reader: pg.Pool,
    private readonly prometheusUrl = '',
  ) {}

  async promQuery(expr: string, startMs: number, endMs: number, stepMs = SCRAPE_MS): Promise<PromSeries[]> {
    const body = new URLSearchParams({
      query: expr,
      start: String(startMs / 1000),
      end: String(endMs / 1000),
      step: `${stepMs / 1000}s`,
    });
    const response = await fetch(`${this.prometheusUrl}/api/v1/query_range`, { method: 'POST', body });
    const json = (await response.json()) as { status: string; error?: string; data?: { result: PromSeries[] } };
    if (json.status !== 'success') throw new Error(`Prometheus refused ${expr}: ${json.error}`);
    return json.data!.result;
  }

  async run(kind: DatasourceKind, text: string, ctx: QueryContext): Promise<Result> {
    if (kind === 'influx') {
      const [series = []] = await this.influx.query(interpolateInfluxQL(text, ctx));
      return fromInflux(series);
    }
    if (kind === 'postgres') {
      const result = await this.reader.query(interpolateSql(text, ctx));
      return {
        series: 1,
        rows: result.rowCount ?? 0,
        columns: new Set(result.fields.map((f) => f.name)),
        values: result.rows.flatMap((r) => Object.values(r)),
      };
    }
    const result = await this.promQuery(
      interpolatePromQL(text, ctx, SCRAPE_MS),
      ctx.range.fromMs,
      ctx.range.toMs,
      ctx.intervalMs,
    );
    return {
      series: result.length,
      rows: result.reduce((n, s) => n + s.values.length, 0),
      columns: new Set(result.flatMap((s) => Object.keys(s.metric))),
      values: result.flatMap((s) => s.values.map((v) => Number(v[1]))),
    };
  }

  /**
   * Resolves the query variables in order, as Grafana does on load: each one's query runs with the
   * variables before it; `choices` pick values, else "All" where offered, else the first value.
   * Returns the selections and what each variable's query returned.
   */
  async resolveVariables(
    dashboard: DashboardJson,
    range: QueryContext['range'],
    choices: Record<string, string[]> = {},
  ): Promise<{ variables: Map<string, Selection>; results: { name: string; text: string; result: Result }[] }> {
    const variables = new Map<string, Selection>();
    const results: { name: string; text: string; result: Result }[] = [];
    for (const v of (dashboard.templating?.list ?? []) as VariableJson[]) {
      if (v.type !== 'query') continue;
      const kind = kindOf(v.datasource?.uid);
      const text = variableQueryText(v);
      const ctx: QueryContext = { range, intervalMs: MIN_INTERVAL_MS[kind], variables };
      let values: string[];
      if (kind === 'prometheus') {
        const m = /^label_values\((.+),\s*(\w+)\)$/.exec(text);
        if (!m) throw new Error(`$${v.name}: unsupported Prometheus variable query ${text}`);
        const series = await this.promQuery(interpolatePromQL(m[1]!, ctx, SCRAPE_MS), range.fromMs, range.toMs, 60_000);
        values = [...new Set(series.map((s) => s.metric[m[2]!]).filter((x): x is string => !!x))].sort();
        results.push({
          name: v.name,
          text,
          result: { series: 1, rows: values.length, columns: new Set([m[2]!]), values },
        });
      } else {
        if (kind !== 'postgres') throw new Error(`$${v.name}: variables from ${kind} are not emulated here`);
        const result = await this.reader.query(interpolateSql(text, ctx));
        const column = result.fields.some((f) => f.name === '__value') ? '__value' : result.fields[0]?.name;
        values = result.rows.map((r) => String(r[column!]));
        results.push({
          name: v.name,
          text,
          result: { series: 1, rows: result.rows.length, columns: new Set(result.fields.map((f) => f.name)), values },
        });
      }
      const chosen = choices[v.name]?.filter((c) => values.includes(c));
      const includeAll = v.includeAll ?? false;
      variables.set(v.name, {
        values: chosen?.length ? chosen : includeAll ? values : values.slice(0, 1),
        multi: v.multi ?? false,
        includeAll: includeAll && !chosen?.length,
      });
    }
    return { variables, results };
  }

  /** Every panel query with the context Grafana would give it (its interval from the range). */
  panelQueries(
    dashboard: DashboardJson,
    range: QueryContext['range'],
    variables: Map<string, Selection>,
  ): PanelQuery[] {
    return allPanels(dashboard).flatMap((panel) =>
      (panel.targets ?? []).map((target) => {
        const kind = kindOf((target.datasource ?? panel.datasource)?.uid);
        const own = panelRange(panel, range);
        const ctx = { range: own, intervalMs: grafanaInterval(own, 1_000, MIN_INTERVAL_MS[kind]), variables };
        return { panel, target, kind, text: queryText(target), ctx };
      }),
    );
  }
}
