// The building blocks every dashboard uses, on top of @grafana/grafana-foundation-sdk: datasource
// variables, the InfluxQL and SQL queries the SDK has no module for (its documented custom-query
// pattern, grafana-foundation-sdk#447), and what each query is expected to return, which the tests
// check against the real databases. Dashboards differ in panels, never in these conventions.
import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import type * as common from '@grafana/grafana-foundation-sdk/common';
import {
  type Dashboard,
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  DatasourceVariableBuilder,
  type Panel,
  QueryVariableBuilder,
  type RowPanel,
  VariableHide,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder as PromQueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { TEHRAN_TIME_ZONE } from '../../lib/program/tehran-time';

/** The datasources the provisioning file defines; dashboards reach them only through variables. */
export const DATASOURCES = {
  influx: { type: 'influxdb', uid: 'solar-influxdb', name: 'Solar InfluxDB', label: 'InfluxDB' },
  postgres: {
    type: 'grafana-postgresql-datasource',
    uid: 'solar-postgres',
    name: 'Solar PostgreSQL',
    label: 'PostgreSQL',
  },
  prometheus: { type: 'prometheus', uid: 'solar-prometheus', name: 'Solar Prometheus', label: 'Prometheus' },
} as const;
export type DatasourceKind = keyof typeof DATASOURCES;

export const ref = (kind: DatasourceKind): common.DataSourceRef => ({
  type: DATASOURCES[kind].type,
  uid: `\${${kind}}`,
});

/**
 * What a query must return on the test fleet: a time series (one or more), a table with these
 * columns, or a single value. `mayBeEmpty` is for queries whose rows exist only when something is
 * wrong (e.g. held installations); their columns are still checked where the source returns them.
 */
export type Expect =
  | { shape: 'series'; minSeries?: number; mayBeEmpty?: boolean }
  | { shape: 'table'; columns: string[]; minRows?: number; mayBeEmpty?: boolean }
  | { shape: 'value'; mayBeEmpty?: boolean };

/** A query with its datasource kind and expectation, as the tests find it in the generated JSON. */
export interface QuerySpec {
  kind: DatasourceKind;
  text: string;
  expect: Expect;
}
const registry = new Map<string, QuerySpec>();
/** The expectation of a query by its text (identical texts carry identical expectations). */
export function expectationOf(text: string): QuerySpec | undefined {
  return registry.get(text);
}
function remember(spec: QuerySpec): void {
  const known = registry.get(spec.text);
  if (known && JSON.stringify(known) !== JSON.stringify(spec))
    throw new Error(`one query text with two expectations: ${spec.text}`);
  registry.set(spec.text, spec);
}

class RawQuery implements Builder<Dataquery> {
  constructor(private readonly body: Record<string, unknown>) {}
  build(): Dataquery {
    return { ...this.body } as unknown as Dataquery;
  }
}

/** InfluxQL in raw mode: `$timeFilter`, `$__interval` and `/^$var$/` for multi-value variables. */
export function influxql(
  refId: string,
  query: string,
  expect: Expect,
  options: { format?: 'time_series' | 'table'; alias?: string } = {},
): Builder<Dataquery> {
  remember({ kind: 'influx', text: query, expect });
  return new RawQuery({
    refId,
    datasource: ref('influx'),
    query,
    rawQuery: true,
    resultFormat: options.format ?? (expect.shape === 'table' ? 'table' : 'time_series'),
    ...(options.alias ? { alias: options.alias } : {}),
  });
}

/** PostgreSQL in code mode: `$__timeFilter()`, `$__timeGroupAlias()`, multi-value variables as `IN ($var)`. */
export function sql(refId: string, rawSql: string, expect: Expect): Builder<Dataquery> {
  remember({ kind: 'postgres', text: rawSql, expect });
  return new RawQuery({
    refId,
    datasource: ref('postgres'),
    editorMode: 'code',
    format: expect.shape === 'series' ? 'time_series' : 'table',
    rawQuery: true,
    rawSql,
  });
}

export function promql(refId: string, expr: string, legend: string, expect: Expect): Builder<Dataquery> {
  remember({ kind: 'prometheus', text: expr, expect });
  return new PromQueryBuilder().refId(refId).datasource(ref('prometheus')).expr(expr).legendFormat(legend).range();
}

/** A hidden-by-default datasource variable that picks the provisioned datasource. */
function datasourceVariable(kind: DatasourceKind) {
  const d = DATASOURCES[kind];
  return new DatasourceVariableBuilder(kind)
    .label(d.label)
    .type(d.type)
    .current({ selected: true, text: d.name, value: d.uid })
    .description(`The ${d.label} datasource the panels read (provisioned as "${d.name}").`);
}

/** A variable filled by a query; `multi` values reach InfluxQL as a regex and SQL as a quoted list. */
export function queryVariable(
  name: string,
  label: string,
  kind: DatasourceKind,
  query: string,
  options: { multi?: boolean; includeAll?: boolean; hide?: boolean; description: string; expect?: Expect },
) {
  remember({ kind, text: query, expect: options.expect ?? { shape: 'table', columns: [], minRows: 1 } });
  const builder = new QueryVariableBuilder(name)
    .label(label)
    .description(options.description)
    .datasource(ref(kind))
    .query(kind === 'influx' ? query : { rawSql: query, format: 'table', refId: 'variable', editorMode: 'code' })
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(options.multi ?? false)
    .includeAll(options.includeAll ?? false);
  if (options.hide) builder.hide(VariableHide.HideVariable);
  return builder;
}

export interface DashboardSpec {
  uid: string;
  /** The Grafana folder (the provider creates folders from the directories under json/). */
  folder: string;
  build(): Dashboard;
}

/** A dashboard with the house conventions: Tehran time, datasource variables, links to the others. */
export function solarDashboard(
  uid: string,
  title: string,
  description: string,
  datasources: DatasourceKind[],
  options: { from?: string; refresh?: string } = {},
): DashboardBuilder {
  const builder = new DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(['solar'])
    .timezone(TEHRAN_TIME_ZONE)
    .weekStart('saturday')
    .tooltip(DashboardCursorSync.Crosshair)
    .time({ from: options.from ?? 'now-24h', to: 'now' })
    .refresh(options.refresh ?? '1m')
    .readonly()
    .link(
      new DashboardLinkBuilder('Solar dashboards')
        .type(DashboardLinkType.Dashboards)
        .tags(['solar'])
        .asDropdown(true)
        .includeVars(false)
        .keepTime(true),
    );
  for (const kind of datasources) builder.withVariable(datasourceVariable(kind).hide(VariableHide.HideVariable));
  return builder;
}

/** Numbers every panel (rows included) uniquely, in layout order, and fills Grafana's defaults. */
export function finish(builder: DashboardBuilder): Dashboard {
  const dashboard = builder.build();
  let id = 1;
  const number = (panel: Panel | RowPanel) => {
    panel.id = id++;
    for (const child of ('panels' in panel ? panel.panels : undefined) ?? []) number(child as Panel);
  };
  for (const panel of dashboard.panels ?? []) number(panel as Panel);
  dashboard.annotations = {
    list: [
      {
        builtIn: 1,
        datasource: { type: 'grafana', uid: '-- Grafana --' },
        enable: true,
        hide: true,
        iconColor: 'rgba(0, 211, 255, 1)',
        name: 'Annotations & Alerts',
        type: 'dashboard',
      },
    ],
  };
  return dashboard;
}
