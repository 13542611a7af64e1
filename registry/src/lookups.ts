// What other components look up in the registry with plain SQL: an inverter by serial,
// installations by code or export meter, the inverters ingest admits.
import type pg from 'pg';

/** A node-postgres pool or one of its clients (a transaction's). */
type Sql = Pick<pg.Pool, 'query'>;

export interface RegisteredInverter {
  installationCode: string;
  status: string;
  ratedAcW: number;
}

/** The inverter with this serial, or null when none is registered. */
export async function registeredInverter(sql: Sql, serial: string): Promise<RegisteredInverter | null> {
  const { rows } = await sql.query<RegisteredInverter>(
    `SELECT ins.code AS "installationCode", inv.status, inv.rated_ac_w AS "ratedAcW"
       FROM inverters inv JOIN installations ins ON ins.id = inv.installation_id WHERE inv.serial = $1`,
    [serial],
  );
  return rows[0] ?? null;
}

/** The installations with one of these codes or export meters (a utility's settlement names either). */
export async function installationsByCodeOrMeter(
  sql: Sql,
  codes: readonly string[],
  exportMeters: readonly string[],
): Promise<{ id: number; code: string; export_meter: string | null }[]> {
  const { rows } = await sql.query<{ id: number; code: string; export_meter: string | null }>(
    'SELECT id, code, export_meter FROM installations WHERE code = ANY($1) OR export_meter = ANY($2)',
    [codes, exportMeters],
  );
  return rows;
}

/** An inverter ingest admits: active, of an installation not decommissioned. */
export interface AdmittedInverterRow {
  serial: string;
  rated_ac_w: number;
  installation: string;
  province: string;
}

export async function admittedInverters(sql: Sql): Promise<AdmittedInverterRow[]> {
  const { rows } = await sql.query<AdmittedInverterRow>(
    `SELECT inv.serial, inv.rated_ac_w, ins.code AS installation, p.code AS province
       FROM inverters inv
       JOIN installations ins ON ins.id = inv.installation_id
       JOIN provinces p ON p.id = ins.province_id
      WHERE inv.status = 'ACTIVE' AND ins.status <> 'DECOMMISSIONED'`,
  );
  return rows;
}
