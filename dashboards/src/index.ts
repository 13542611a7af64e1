// Every dashboard, in the order the generator writes them. A new dashboard is one module exporting
// a DashboardSpec, listed here (dashboards/README.md, "Adding a dashboard").
import { billing } from './billing';
import { cashPosition } from './cash-position';
import { fleet } from './fleet';
import type { DashboardSpec } from './grafana';
import { ingestHealth } from './ingest-health';
import { installation } from './installation';
import { program } from './program';

export const DASHBOARDS: DashboardSpec[] = [program, billing, cashPosition, fleet, installation, ingestHealth];

/** Where a dashboard's JSON lives, relative to dashboards/json/ (the folder is Grafana's folder). */
export const jsonPath = (spec: DashboardSpec) => `${spec.folder}/${spec.uid}.json`;

/** The file's exact text: the generator writes it and the test compares the committed one to it. */
export const renderJson = (spec: DashboardSpec) => `${JSON.stringify(spec.build(), null, 2)}\n`;
