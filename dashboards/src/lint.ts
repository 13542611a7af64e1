// Checks a dashboard's JSON the way a reviewer would, before any query runs: every panel has a
// title, a description, a unit and at least one query; ids are unique; every query reaches its
// datasource through a datasource variable the dashboard declares, and every such variable is used.
// Returns the problems found, each naming the dashboard and panel.
import { TEHRAN_TIME_ZONE } from '../../lib/program/tehran-time';

export interface DashboardJson {
  uid: string;
  title: string;
  schemaVersion: number;
  timezone?: string;
  panels?: PanelJson[];
  templating?: { list?: VariableJson[] };
}
export interface PanelJson {
  id?: number;
  type: string;
  title?: string;
  description?: string;
  /** A panel's own relative range (e.g. `7d`), replacing the dashboard's. */
  timeFrom?: string;
  datasource?: { type?: string; uid?: string };
  targets?: TargetJson[];
  panels?: PanelJson[];
  fieldConfig?: { defaults?: { unit?: string } };
}
export interface TargetJson {
  refId: string;
  datasource?: { type?: string; uid?: string };
  query?: string;
  rawSql?: string;
  expr?: string;
}
export interface VariableJson {
  type: string;
  name: string;
  query?: string | { rawSql?: string };
  datasource?: { type?: string; uid?: string };
  multi?: boolean;
  includeAll?: boolean;
}

/** Every panel, rows' children included, in layout order. */
export function allPanels(dashboard: DashboardJson): PanelJson[] {
  const out: PanelJson[] = [];
  const visit = (p: PanelJson) => {
    if (p.type !== 'row') out.push(p);
    for (const child of p.panels ?? []) visit(child);
  };
  for (const p of dashboard.panels ?? []) visit(p);
  return out;
}

/** The text a target sends to its datasource. */
export const queryText = (t: TargetJson) => t.query ?? t.rawSql ?? t.expr ?? '';
export const variableQueryText = (v: VariableJson) => (typeof v.query === 'string' ? v.query : (v.query?.rawSql ?? ''));

export function lintDashboard(dashboard: DashboardJson): string[] {
  const problems: string[] = [];
  const where = (p: PanelJson) => `${dashboard.uid}: panel ${p.id ?? '?'} "${p.title ?? ''}"`;
  if (!dashboard.title) problems.push(`${dashboard.uid}: no title`);
  if (dashboard.timezone !== TEHRAN_TIME_ZONE)
    problems.push(`${dashboard.uid}: times must be shown in ${TEHRAN_TIME_ZONE}`);
  if (!(dashboard.schemaVersion >= 39)) problems.push(`${dashboard.uid}: schemaVersion below Grafana 11's`);

  const variables = dashboard.templating?.list ?? [];
  const datasourceVariables = new Map(
    variables.filter((v) => v.type === 'datasource').map((v) => [v.name, variableQueryText(v)]),
  );
  const used = new Set<string>();
  const checkRef = (context: string, ref: { type?: string; uid?: string } | undefined) => {
    const name = /^\$\{(\w+)\}$/.exec(ref?.uid ?? '')?.[1];
    if (!name || !datasourceVariables.has(name)) {
      problems.push(`${context}: datasource ${JSON.stringify(ref)} is not one of the dashboard's datasource variables`);
      return;
    }
    if (datasourceVariables.get(name) !== ref?.type)
      problems.push(`${context}: datasource type ${ref?.type} does not match variable $${name}`);
    used.add(name);
  };

  for (const v of variables.filter((x) => x.type === 'query')) {
    checkRef(`${dashboard.uid}: variable $${v.name}`, v.datasource);
    if (!variableQueryText(v).trim()) problems.push(`${dashboard.uid}: variable $${v.name} has no query`);
  }

  const ids = new Set<number>();
  for (const p of dashboard.panels ?? []) collectIds(p, ids, problems, dashboard.uid);
  for (const p of allPanels(dashboard)) {
    if (!p.title?.trim()) problems.push(`${where(p)}: no title`);
    if (!p.description?.trim()) problems.push(`${where(p)}: no description`);
    if (!p.fieldConfig?.defaults?.unit) problems.push(`${where(p)}: no unit`);
    const targets = p.targets ?? [];
    if (targets.length === 0) problems.push(`${where(p)}: no query`);
    const refIds = new Set<string>();
    for (const t of targets) {
      if (refIds.has(t.refId)) problems.push(`${where(p)}: refId ${t.refId} twice`);
      refIds.add(t.refId);
      if (!queryText(t).trim()) problems.push(`${where(p)} ${t.refId}: empty query`);
      checkRef(`${where(p)} ${t.refId}`, t.datasource ?? p.datasource);
    }
  }
  for (const name of datasourceVariables.keys())
    if (!used.has(name)) problems.push(`${dashboard.uid}: datasource variable $${name} is never used`);
  return problems;
}

function collectIds(p: PanelJson, ids: Set<number>, problems: string[], uid: string): void {
  if (typeof p.id !== 'number') problems.push(`${uid}: panel "${p.title ?? ''}" has no id`);
  else if (ids.has(p.id)) problems.push(`${uid}: panel id ${p.id} is used twice`);
  else ids.add(p.id);
  for (const child of p.panels ?? []) collectIds(child, ids, problems, uid);
}
