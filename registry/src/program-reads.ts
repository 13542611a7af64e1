// The registry as the program's computations read it: billing's month (installations with their
// inverters, contracts with their tariffs, shares; loans through the view `loan_terms`), the reconciliation's installations and
// the alerts evaluator's (commissioned installations, active inverters, tariffs in force). Each
// returns the rows as queried, on the caller's client (a billing run reads them inside its own
// transaction, so one run sees one registry); the caller shapes them.
import type pg from 'pg';
import type { CommissionedInstallation } from '../../lib/program/commissioned-installation';

/** A node-postgres pool or one of its clients (a transaction's). */
type Sql = Pick<pg.Pool, 'query'>;

/** An installation with inverters, its capacity in W, and its inverters' serials and ratings in serial order. */
export interface MeteredInstallationRow {
  id: number;
  code: string;
  /** The province's code (also the InfluxDB tag its readings carry). */
  province: string;
  capacity_w: number;
  serials: string[];
  ratings: number[];
}

/** Every installation that has inverters, by id. */
export async function meteredInstallations(sql: Sql): Promise<MeteredInstallationRow[]> {
  const { rows } = await sql.query<MeteredInstallationRow>(
    `SELECT i.id, i.code, p.code AS province, round(i.dc_capacity_kwp * 1000)::int AS capacity_w,
            array_agg(v.serial ORDER BY v.serial) AS serials, array_agg(v.rated_ac_w ORDER BY v.serial) AS ratings
       FROM installations i JOIN provinces p ON p.id = i.province_id JOIN inverters v ON v.installation_id = i.id
      GROUP BY i.id, p.code ORDER BY i.id`,
  );
  return rows;
}

/** These installations with their code, province code and inverters (none: empty arrays), in no order. */
export async function installationsWithInverters(
  sql: Sql,
  installationIds: readonly number[],
): Promise<Omit<MeteredInstallationRow, 'capacity_w'>[]> {
  const { rows } = await sql.query<Omit<MeteredInstallationRow, 'capacity_w'>>(
    `SELECT i.id, i.code, p.code AS province,
            COALESCE(array_agg(v.serial ORDER BY v.serial) FILTER (WHERE v.serial IS NOT NULL), '{}') AS serials,
            COALESCE(array_agg(v.rated_ac_w ORDER BY v.serial) FILTER (WHERE v.serial IS NOT NULL), '{}') AS ratings
       FROM installations i JOIN provinces p ON p.id = i.province_id LEFT JOIN inverters v ON v.installation_id = i.id
      WHERE i.id = ANY($1::int[]) GROUP BY i.id, p.code`,
    [installationIds],
  );
  return rows;
}

/** A contract with one of its tariff periods (none: the tariff columns null). */
export interface ContractTariffRow {
  id: number;
  installation_id: number;
  reference: string;
  kind: 'ORDINARY' | 'SUPPORT';
  start_date: string;
  rial_per_kwh: number | null;
  tariff_from: string | null;
  tariff_until: string | null;
}

/**
 * The contracts in force on some day of [firstDate, lastDate] (a contract is in force from its start
 * until the next one of its installation starts), a row per tariff period, by installation, start and period.
 */
export async function contractTariffsInForce(
  sql: Sql,
  firstDate: string,
  lastDate: string,
): Promise<ContractTariffRow[]> {
  const { rows } = await sql.query<ContractTariffRow>(
    `SELECT c.id, c.installation_id, c.reference, c.kind, to_char(c.start_date, 'YYYY-MM-DD') AS start_date, t.rial_per_kwh,
            to_char(t.effective_from, 'YYYY-MM-DD') AS tariff_from, to_char(t.effective_until, 'YYYY-MM-DD') AS tariff_until
       FROM contracts c LEFT JOIN tariff_periods t ON t.contract_id = c.id
      WHERE c.start_date <= $2::date
        AND NOT EXISTS (SELECT 1 FROM contracts n WHERE n.installation_id = c.installation_id AND n.start_date <= $1::date
                           AND (n.start_date, n.id) > (c.start_date, c.id))
      ORDER BY c.installation_id, c.start_date, c.id, t.effective_from`,
    [firstDate, lastDate],
  );
  return rows;
}

/** A row of the view `loan_terms`: a loan's terms; amounts in Rials as text (bigint). */
export interface LoanRow {
  id: number;
  installation_id: number;
  reference: string;
  principal_rials: string;
  installment_rials: string;
  installments: number;
  first_due_month: string;
}

export interface ShareRow {
  id: number;
  beneficiary_id: number;
  installation_id: number;
  weight_w: number;
  valid_from: string;
  valid_until: string | null;
}

/** The shares valid on some day of [firstDate, lastDate], by id. */
export async function sharesInForce(sql: Sql, firstDate: string, lastDate: string): Promise<ShareRow[]> {
  const { rows } = await sql.query<ShareRow>(
    `SELECT id, beneficiary_id, installation_id, weight_w, to_char(valid_from, 'YYYY-MM-DD') AS valid_from, to_char(valid_until, 'YYYY-MM-DD') AS valid_until
       FROM shares WHERE valid_from <= $2::date AND (valid_until IS NULL OR valid_until > $1::date) ORDER BY id`,
    [firstDate, lastDate],
  );
  return rows;
}

/** The beneficiaries holding a share on the day after `lastDate`. */
export async function beneficiariesHoldingAfter(sql: Sql, lastDate: string): Promise<number[]> {
  const { rows } = await sql.query<{ beneficiary_id: number }>(
    `SELECT DISTINCT beneficiary_id FROM shares WHERE valid_until IS NULL OR valid_until > $1::date + 1`,
    [lastDate],
  );
  return rows.map((r) => r.beneficiary_id);
}

/** The commissioned installations where the alerts evaluator looks for the sun, by id. */
export async function commissionedInstallations(sql: Sql): Promise<CommissionedInstallation[]> {
  const { rows } = await sql.query<CommissionedInstallation>(
    `SELECT i.id, i.code, i.province_id AS "provinceId", p.code AS "provinceCode", i.latitude::float8 AS latitude,
            i.longitude::float8 AS longitude, i.dc_capacity_kwp::float8 AS "dcKwp", i.tilt_deg::float8 AS "tiltDeg"
       FROM installations i JOIN provinces p ON p.id = i.province_id
      WHERE i.status = 'COMMISSIONED' ORDER BY i.id`,
  );
  return rows;
}

/** The active inverters of commissioned installations, by id. */
export async function activeInvertersOfCommissioned(
  sql: Sql,
): Promise<{ id: number; serial: string; ratedAcW: number; installationId: number }[]> {
  const { rows } = await sql.query<{ id: number; serial: string; ratedAcW: number; installationId: number }>(
    `SELECT v.id, v.serial, v.rated_ac_w AS "ratedAcW", v.installation_id AS "installationId"
       FROM inverters v JOIN installations i ON i.id = v.installation_id
      WHERE v.status = 'ACTIVE' AND i.status = 'COMMISSIONED' ORDER BY v.id`,
  );
  return rows;
}

/** A tariff period of a contract started by `today`, of a commissioned installation. */
export interface TariffRow {
  installationId: number;
  reference: string;
  kind: 'ORDINARY' | 'SUPPORT';
  startDate: string;
  from: string;
  until: string | null;
  rialPerKwh: number;
}

/** Commissioned installations' contracts started on or before `today` with their tariffs, by installation, start and period. */
export async function commissionedTariffs(sql: Sql, today: string): Promise<TariffRow[]> {
  const { rows } = await sql.query<TariffRow>(
    `SELECT c.installation_id AS "installationId", c.reference, c.kind::text AS kind,
            to_char(c.start_date, 'YYYY-MM-DD') AS "startDate", to_char(t.effective_from, 'YYYY-MM-DD') AS "from",
            to_char(t.effective_until, 'YYYY-MM-DD') AS "until", t.rial_per_kwh AS "rialPerKwh"
       FROM contracts c JOIN tariff_periods t ON t.contract_id = c.id
       JOIN installations i ON i.id = c.installation_id AND i.status = 'COMMISSIONED'
      WHERE c.start_date <= $1::date ORDER BY c.installation_id, c.start_date, t.effective_from`,
    [today],
  );
  return rows;
}

/**
 * A text that changes whenever installations, inverters, contracts or tariffs change (counts, the
 * latest update or id, the tariffs' sum): a cache of them reads them again only then.
 */
export async function pricedRegistryFingerprint(sql: Sql): Promise<string> {
  const {
    rows: [{ fingerprint } = { fingerprint: '' }],
  } = await sql.query<{ fingerprint: string }>(
    `SELECT concat_ws('/', (SELECT count(*) || ':' || coalesce(max(updated_at)::text, '') FROM installations),
                          (SELECT count(*) || ':' || coalesce(max(updated_at)::text, '') FROM inverters),
                          (SELECT count(*) || ':' || coalesce(max(id), 0) FROM contracts),
                          (SELECT count(*) || ':' || coalesce(max(id), 0) || ':' || coalesce(sum(rial_per_kwh), 0) || ':' ||
                                  coalesce(max(effective_until)::text, '') FROM tariff_periods)) AS fingerprint`,
  );
  return fingerprint;
}
