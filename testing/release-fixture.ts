// The previous release's database (prisma/test/fixtures, captured by that release's own code) and
// every table of a database as a row count and a digest of its rows: what an upgrade must keep and
// a rollback must bring back (prisma/test/upgrade.test.ts, ops/backup/test/restore-drill.test.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type pg from 'pg';

const FIXTURES = 'prisma/test/fixtures';
/** The newest release captured (its .json says when), e.g. `release-ccdae23`. */
export const newestRelease = readdirSync(FIXTURES)
  .filter((f) => /^release-[0-9a-f]{7}\.json$/.test(f))
  .map((f) => ({
    name: f.replace('.json', ''),
    ...(JSON.parse(readFileSync(`${FIXTURES}/${f}`, 'utf8')) as { capturedAt: string }),
  }))
  .sort((a, b) => a.capturedAt.localeCompare(b.capturedAt))
  .at(-1)!.name;
/** The demo's fictional sign-ins of that release's database. */
export const releaseLogins = () =>
  JSON.parse(readFileSync(`${FIXTURES}/${newestRelease}.logins.json`, 'utf8')) as {
    nationalCode: string;
    pin: string;
  }[];

/** Loads the release's database into the (empty) database `c` is connected to, as its owner. */
export async function loadRelease(c: pg.Client): Promise<void> {
  await c.query(gunzipSync(readFileSync(`${FIXTURES}/${newestRelease}.sql.gz`)).toString('utf8'));
  await c.query('SET search_path = public'); // the dump empties it for its own statements
}

export interface TableState {
  columns: string[];
  rows: number;
  md5: string;
}

/**
 * Each table's row count and a digest of its rows over its columns; with `columnsOf`, over those
 * columns of those tables only (a later release's tables and columns left out); `ignore` leaves out
 * columns a migration rewrites on purpose.
 */
export async function tableStates(
  c: pg.Client,
  options: { columnsOf?: Map<string, string[]>; ignore?: Record<string, string[]> } = {},
): Promise<Map<string, TableState>> {
  const { rows } = await c.query<{ table: string; columns: string[] }>(
    `SELECT table_name AS table, array_agg(column_name::text ORDER BY ordinal_position) AS columns
       FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'
      GROUP BY table_name`,
  );
  const states = new Map<string, TableState>();
  for (const { table, columns: all } of rows) {
    if (options.columnsOf && !options.columnsOf.has(table)) continue; // a table of a later release
    const columns = (options.columnsOf?.get(table) ?? all).filter((c) => !options.ignore?.[table]?.includes(c));
    const list = columns.map((c) => `"${c}"`).join(', ');
    const {
      rows: [state],
    } = await c.query<{ rows: string; md5: string | null }>(
      `SELECT count(*) AS rows, md5(string_agg(t::text, E'\\n' ORDER BY t::text)) AS md5 FROM (SELECT ${list} FROM "${table}") t`,
    );
    states.set(table, { columns: all, rows: Number(state!.rows), md5: state!.md5 ?? '' });
  }
  return states;
}
