// Panel shapes the dashboards share, so every panel gets a title, a description, a unit and a size
// the same way. Units are Grafana's unit ids; money is shown in whole Rials.
import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import { PanelBuilder as BarChart } from '@grafana/grafana-foundation-sdk/barchart';
import {
  BigValueGraphMode,
  GraphDrawStyle,
  ReduceDataOptionsBuilder,
  StackingMode,
  VisibilityMode,
  VizOrientation,
} from '@grafana/grafana-foundation-sdk/common';
import { PanelBuilder as Gauge } from '@grafana/grafana-foundation-sdk/gauge';
import { PanelBuilder as Stat } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as StateTimeline } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as Table } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeSeries } from '@grafana/grafana-foundation-sdk/timeseries';

export const UNIT = {
  watt: 'watt',
  kwh: 'kwatth',
  megawatt: 'megwatt',
  rials: 'suffix: Rials',
  percent: 'percent',
  count: 'none',
  specificYield: 'suffix: kWh/kWp',
  seconds: 's',
  bytes: 'bytes',
  perSecond: 'reqps',
  text: 'string',
} as const;

interface Common {
  title: string;
  description: string;
  unit: string;
  targets: Builder<Dataquery>[];
  w: number;
  h: number;
}

function apply<T extends Stat | Gauge | Table | TimeSeries | BarChart | StateTimeline>(panel: T, c: Common): T {
  panel.title(c.title).description(c.description).unit(c.unit).span(c.w).height(c.h);
  for (const target of c.targets) panel.withTarget(target);
  return panel;
}

const last = () => new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false);

/** One number (or one per query) reduced to its last value. */
export function stat(c: Common & { decimals?: number }) {
  const panel = apply(new Stat(), c).reduceOptions(last()).graphMode(BigValueGraphMode.None);
  if (c.decimals !== undefined) panel.decimals(c.decimals);
  return panel;
}

export function gauge(c: Common & { max: number; decimals?: number }) {
  const panel = apply(new Gauge(), c).reduceOptions(last()).min(0).max(c.max);
  if (c.decimals !== undefined) panel.decimals(c.decimals);
  return panel;
}

export function table(c: Common & { columnUnits?: Record<string, string> }) {
  const panel = apply(new Table(), c).filterable(true);
  for (const [column, unit] of Object.entries(c.columnUnits ?? {}))
    panel.overrideByName(column, [{ id: 'unit', value: unit }]);
  return panel;
}

export function timeseries(c: Common & { bars?: boolean; stacked?: boolean }) {
  const panel = apply(new TimeSeries(), c).fillOpacity(c.bars ? 80 : 10);
  if (c.bars) panel.drawStyle(GraphDrawStyle.Bars);
  if (c.stacked) panel.stacking({ build: () => ({ mode: StackingMode.Normal, group: 'A' }) });
  return panel;
}

/** Bars over a text column (e.g. a Solar Hijri month), not over time. */
export function barchart(c: Common & { xField: string }) {
  return apply(new BarChart(), c)
    .xField(c.xField)
    .orientation(VizOrientation.Vertical)
    .showValue(VisibilityMode.Never)
    .stacking(StackingMode.None);
}

export function stateTimeline(c: Common) {
  return apply(new StateTimeline(), c).mergeValues(true).showValue(VisibilityMode.Never);
}
