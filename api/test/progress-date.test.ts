// GET /progress and Grafana's Program dashboard count "people with income" on the same day: the
// program's (Tehran's) date. Just after Tehran's midnight it is still the day before in UTC; a share
// starting that Tehran day counts and one ending then does not, in both.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPrisma, type PrismaClient } from '../../lib/db';
import { nationalCodeFor, shebaFor } from '../../lib/identifiers/validate';
import { freshPgDatabase, influxAs } from '../../testing/services';
import { computeProgress } from '../src/progress';

/** 00:30 on 11 June 2026 in Tehran, 21:00 on 10 June in UTC. */
const NOW = new Date('2026-06-10T21:00:00Z');
const PEOPLE_PANEL = 'People with income (target 21,000)';

let pool: pg.Pool;
let prisma: PrismaClient;

beforeAll(async () => {
  const url = await freshPgDatabase('api_progress_date');
  pool = new pg.Pool({ connectionString: url, max: 1 });
  prisma = createPrisma(url);
  await pool.query(`
    INSERT INTO installations (code, name, province_id, latitude, longitude, dc_capacity_kwp, ac_rating_kw, status, updated_at)
    SELECT 'PD-1', 'roof', id, latitude, longitude, 5, 5, 'COMMISSIONED', now() FROM provinces WHERE code = 'yazd'`);
  // A person in Yazd whose share starts on Tehran's 11 June, one in Fars whose share ends then
  // (valid until is exclusive): on Tehran's date Yazd has one person with income and Fars none.
  for (const [n, province, from, until] of [
    [1, 'yazd', '2026-06-11', null],
    [2, 'fars', '2026-01-01', '2026-06-11'],
  ] as const) {
    await pool.query(
      `INSERT INTO beneficiaries (national_code, full_name, sheba, province_id, target_group, updated_at)
       SELECT $1, $2, $3, id, 'WOMAN_HEAD_OF_HOUSEHOLD', now() FROM provinces WHERE code = $4`,
      [nationalCodeFor(9300 + n), `progress ${n}`, shebaFor(9300 + n), province],
    );
    await pool.query(
      `INSERT INTO shares (beneficiary_id, installation_id, weight_w, valid_from, valid_until, updated_at)
       SELECT b.id, i.id, 2500, $2, $3, now() FROM beneficiaries b, installations i WHERE b.national_code = $1 AND i.code = 'PD-1'`,
      [nationalCodeFor(9300 + n), from, until],
    );
  }
});

afterAll(async () => {
  await prisma?.$disconnect();
  await pool?.end();
});

it("counts people with income on Tehran's date, as the Program dashboard does", async () => {
  const progress = await computeProgress(prisma, influxAs('READER'), 30, NOW);
  const people = (code: string) => progress.provinces.find((p) => p.province === code)?.people;
  expect([progress.overall.people, people('yazd'), people('fars')]).toEqual([1, 1, 0]);

  const dashboard = JSON.parse(
    readFileSync(join(import.meta.dirname, '..', '..', 'dashboards', 'json', 'Program', 'solar-program.json'), 'utf8'),
  );
  // Each panel's query as Grafana sends it, at the same instant.
  const panelRows = async (title: string) => {
    const panel = dashboard.panels.find((p: { title: string }) => p.title === title);
    const query = String(panel.targets[0].rawSql).replaceAll('now()', `'${NOW.toISOString()}'::timestamptz`);
    return (await pool.query(query)).rows;
  };
  const [total] = await panelRows(PEOPLE_PANEL);
  expect(Number(total['People with income'])).toBe(progress.overall.people);
  const byProvince = new Map(
    (await panelRows('Progress by province')).map((r) => [r.Province, Number(r['People with income'])]),
  );
  expect([byProvince.get('Yazd'), byProvince.get('Fars')]).toEqual([people('yazd'), people('fars')]);
});
