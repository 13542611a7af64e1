// The generated dashboards are the committed ones, and every one passes the lint; the lint itself
// catches each kind of problem it claims to.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATASOURCES } from './grafana';
import { DASHBOARDS, jsonPath, renderJson } from './index';
import { allPanels, type DashboardJson, lintDashboard } from './lint';

const root = join(import.meta.dirname, '..', 'json');
const committed = (path: string) => readFileSync(join(root, path), 'utf8');

describe('generated dashboards', () => {
  it('are exactly the committed JSON files (run `npm run dashboards` after changing a generator)', () => {
    const files = readdirSync(root, { recursive: true }).filter((f) => String(f).endsWith('.json'));
    expect(files.map(String).sort()).toEqual(DASHBOARDS.map(jsonPath).sort());
    for (const spec of DASHBOARDS) expect(committed(jsonPath(spec)), jsonPath(spec)).toBe(renderJson(spec));
  });

  it.each(DASHBOARDS.map((d) => [d.uid, d]))('%s passes the lint', (_uid, spec) => {
    const dashboard = JSON.parse(committed(jsonPath(spec))) as DashboardJson;
    expect(lintDashboard(dashboard)).toEqual([]);
    expect(allPanels(dashboard).length).toBeGreaterThan(3);
  });

  it('uses the datasource uids the provisioning file defines', () => {
    const provisioning = readFileSync(join(import.meta.dirname, '..', 'provisioning/datasources/solar.yaml'), 'utf8');
    for (const d of Object.values(DATASOURCES)) {
      expect(provisioning).toContain(`uid: ${d.uid}`);
      expect(provisioning).toContain(`type: ${d.type}`);
    }
  });
});

describe('the lint', () => {
  const good = (): DashboardJson => JSON.parse(committed(jsonPath(DASHBOARDS[0]!)));

  it('names a panel without a unit, title, description or query', () => {
    const d = good();
    const p = d.panels![0]!;
    delete p.fieldConfig!.defaults!.unit;
    p.title = '';
    p.description = ' ';
    p.targets = [];
    const problems = lintDashboard(d).join('\n');
    expect(problems).toMatch(/no unit/);
    expect(problems).toMatch(/no title/);
    expect(problems).toMatch(/no description/);
    expect(problems).toMatch(/no query/);
  });

  it('finds duplicate ids, a datasource that bypasses the variables and an unused datasource variable', () => {
    const d = good();
    d.panels![1]!.id = d.panels![0]!.id;
    for (const p of allPanels(d))
      for (const t of p.targets ?? []) t.datasource = { type: 'grafana-postgresql-datasource', uid: 'solar-postgres' };
    const problems = lintDashboard(d).join('\n');
    expect(problems).toMatch(/panel id 1 is used twice/);
    expect(problems).toMatch(/is not one of the dashboard's datasource variables/);
    expect(problems).toMatch(/datasource variable \$postgres is never used/);
  });

  it('refuses a dashboard not shown in Tehran time', () => {
    const d = good();
    d.timezone = 'browser';
    expect(lintDashboard(d)).toEqual(['solar-program: times must be shown in Asia/Tehran']);
  });
});
