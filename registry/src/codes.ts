// How people name what other components hold by id: an installation's code and its province's,
// a province's code (billing's settlements, alerts' installations and provinces, the monthly report).
import type pg from 'pg';

type Sql = Pick<pg.Pool, 'query'>;

/** Each installation's code and its province's code, by installation id. */
export async function installationCodes(
  sql: Sql,
  ids: number[],
): Promise<Map<number, { code: string; province: string }>> {
  const { rows } = await sql.query<{ id: number; code: string; province: string }>(
    'SELECT i.id, i.code, p.code AS province FROM installations i JOIN provinces p ON p.id = i.province_id WHERE i.id = ANY($1)',
    [ids],
  );
  return new Map(rows.map((r) => [r.id, { code: r.code, province: r.province }]));
}

/** Each province's code, by province id. */
export async function provinceCodes(sql: Sql, ids: number[]): Promise<Map<number, string>> {
  const { rows } = await sql.query<{ id: number; code: string }>('SELECT id, code FROM provinces WHERE id = ANY($1)', [
    ids,
  ]);
  return new Map(rows.map((r) => [r.id, r.code]));
}

/** The ids of the installations in the province with this code (none for an unknown code). */
export async function installationIdsInProvince(sql: Sql, provinceCode: string): Promise<number[]> {
  const { rows } = await sql.query<{ id: number }>(
    'SELECT i.id FROM installations i JOIN provinces p ON p.id = i.province_id WHERE p.code = $1',
    [provinceCode],
  );
  return rows.map((r) => r.id);
}
