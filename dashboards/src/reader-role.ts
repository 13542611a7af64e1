// The PostgreSQL role Grafana connects as: it can log in and read what the dashboards show, nothing
// else. An allow-list, not "everything but": a table added later (e.g. one holding Sheba numbers)
// stays unreadable until someone decides Grafana may see it. Beneficiaries are readable only by
// id, province, target group and status: names, national codes, mobiles, Sheba and PIN hashes are
// not. Staff accounts, sessions, the audit log and stored API replies are not readable at all.
import type pg from 'pg';

export const READABLE_TABLES = [
  'provinces',
  'installations',
  'inverters',
  'shares',
  'contracts',
  'tariff_periods',
  'loans',
  'billing_months',
  'installation_bills',
  'energy_adjustments',
  'loan_deductions',
  'statements',
  'statement_lines',
  'payout_batches',
  // Settlements only with the figures in force (billing's view), never the imported ones a correction replaced.
  'settlements_in_force',
  // The lateness the API counts with (SETTLEMENT_LATE_AFTER_DAYS), for the Cash position's "late".
  'settlement_policy',
  'settlement_adjustments',
  'counter_reviews',
  'inverter_replacements',
  'alerts',
  'alert_events',
  'active_alerts',
] as const;
export const READABLE_BENEFICIARY_COLUMNS = ['id', 'province_id', 'target_group', 'status'] as const;

export interface ReaderAccount {
  username: string;
  password: string;
}

/** Reads PG_DASHBOARDS_USERNAME / PG_DASHBOARDS_PASSWORD; names what is wrong. */
export function readReaderAccount(env: NodeJS.ProcessEnv): ReaderAccount {
  const username = env.PG_DASHBOARDS_USERNAME ?? 'solar_dashboards';
  const password = env.PG_DASHBOARDS_PASSWORD ?? '';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(username))
    throw new Error(`PG_DASHBOARDS_USERNAME must be a plain lower-case identifier, got '${username}'`);
  if (password.length < 16) throw new Error('PG_DASHBOARDS_PASSWORD must be set (at least 16 characters)');
  return { username, password };
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Creates or corrects the reader role and its grants in the connected database (grants are per
 * database; the role is per cluster). Idempotent; tables not created yet are skipped and granted
 * on the next run. Returns the tables it granted.
 */
export async function ensureReaderRole(db: pg.ClientBase, account: ReaderAccount): Promise<string[]> {
  const role = ident(account.username);
  const exists = await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [account.username]);
  const password = `'${account.password.replace(/'/g, "''")}'`;
  await db.query(
    exists.rowCount
      ? `ALTER ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD ${password}`
      : `CREATE ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD ${password}`,
  );
  const database = (await db.query<{ db: string }>('SELECT current_database() AS db')).rows[0]!.db;
  await db.query(`GRANT CONNECT ON DATABASE ${ident(database)} TO ${role}`);
  await db.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
  // Start from nothing, so a table taken off the list loses its grant too.
  await db.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${role}`);
  const present = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'p') AND c.relname = ANY($1)`,
    [[...READABLE_TABLES, 'beneficiaries']],
  );
  const names = new Set(present.rows.map((r) => r.name));
  const granted = READABLE_TABLES.filter((t) => names.has(t));
  if (granted.length) await db.query(`GRANT SELECT ON ${granted.map(ident).join(', ')} TO ${role}`);
  if (names.has('beneficiaries'))
    await db.query(`GRANT SELECT (${READABLE_BENEFICIARY_COLUMNS.join(', ')}) ON beneficiaries TO ${role}`);
  // A session of this role can never write, even through a function that forgets to check.
  await db.query(`ALTER ROLE ${role} SET default_transaction_read_only = on`);
  return granted;
}
