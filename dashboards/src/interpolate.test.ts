import { describe, expect, it } from 'vitest';
import {
  grafanaInterval,
  interpolateInfluxQL,
  interpolatePromQL,
  interpolateSql,
  intervalText,
  type QueryContext,
} from './interpolate';

const ctx: QueryContext = {
  range: { fromMs: Date.UTC(2026, 10, 24, 20, 30), toMs: Date.UTC(2026, 10, 25, 20, 30) },
  intervalMs: 60_000,
  variables: new Map([
    ['province', { values: ['yazd', 'fars'], multi: true, includeAll: true }],
    ['installation', { values: ["SIM-O'NE"], multi: false, includeAll: false }],
    ['serial', { values: ['A.1'], multi: true, includeAll: false }],
  ]),
};

describe('Grafana interpolation', () => {
  it('computes $__interval like Grafana: range over data points, rounded, at least the minimum', () => {
    expect(grafanaInterval(ctx.range, 1000, 10_000)).toBe(60_000); // 86.4 s → 1m
    expect(grafanaInterval({ fromMs: 0, toMs: 3_600_000 }, 1000, 10_000)).toBe(10_000); // 3.6 s → 5s, min 10s
    expect(intervalText(3_600_000)).toBe('1h');
    expect(intervalText(90_000)).toBe('90s');
  });

  it('InfluxQL: $timeFilter in ms, $__interval as text, multi-value variables as an escaped regex group', () => {
    expect(
      interpolateInfluxQL(
        `SELECT mean(p) FROM t WHERE $timeFilter AND "province" =~ /^$province$/ AND "serial" =~ /^\${serial}$/ ` +
          `AND "installation" = '$installation' GROUP BY time($__interval)`,
        ctx,
      ),
    ).toBe(
      `SELECT mean(p) FROM t WHERE time >= ${ctx.range.fromMs}ms and time <= ${ctx.range.toMs}ms AND "province" ` +
        `=~ /^(yazd|fars)$/ AND "serial" =~ /^(A\\.1)$/ AND "installation" = 'SIM-O'NE' GROUP BY time(1m)`,
    );
  });

  it('SQL: macros expanded, multi-value variables as a quoted list, single values as written', () => {
    expect(
      interpolateSql(
        `SELECT $__timeGroupAlias(at, 1h), count(*) FROM a WHERE $__timeFilter(at) AND p IN ($province) AND code = '$installation' AND at < $__timeTo()`,
        ctx,
      ),
    ).toBe(
      `SELECT floor(extract(epoch from at)/3600)*3600 AS "time", count(*) FROM a WHERE at BETWEEN ` +
        `'2026-11-24T20:30:00Z' AND '2026-11-25T20:30:00Z' AND p IN ('yazd','fars') AND code = 'SIM-O'NE' AND at < '2026-11-25T20:30:00Z'`,
    );
    expect(() => interpolateSql('SELECT $__unknownMacro(x)', ctx)).toThrow(/does not know/);
  });

  it('PromQL: $__rate_interval is at least four scrapes, variables as a regex group', () => {
    expect(interpolatePromQL('rate(x{w=~"$province"}[$__rate_interval])', ctx, 5_000)).toBe(
      'rate(x{w=~"(yazd|fars)"}[65s])',
    );
    expect(interpolatePromQL('rate(x[$__rate_interval])', { ...ctx, intervalMs: 1_000 }, 5_000)).toBe('rate(x[20s])');
  });
});
