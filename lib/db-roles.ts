// The PostgreSQL role the platform's processes connect as (DATABASE_URL). Migrations, setup and
// tests that rebuild databases use the owner (DATABASE_OWNER_URL); the application role owns no
// table, so it cannot alter a table, disable a trigger or truncate: the database's own guards
// (closed months, frozen payout batches, the append-only audit log) bind the application too.
// It reads and writes rows, except that the audit log is insert-only and the migrations table
// is not its business.
import type pg from 'pg';

export interface AppAccount {
  username: string;
  password: string;
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** The application role's account from DATABASE_URL. */
export function appAccountOf(databaseUrl: string): AppAccount {
  const url = new URL(databaseUrl);
  const username = decodeURIComponent(url.username);
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(username))
    throw new Error(`DATABASE_URL must name a plain lower-case role, got '${username}'`);
  return { username, password: decodeURIComponent(url.password) };
}

/**
 * Creates or corrects the application role (per cluster) and its grants in the connected database
 * (per database), connected as the owner of the tables. Idempotent: grants are rebuilt from
 * nothing each time, so a table created by a later migration is covered on the next setup.
 */
export async function ensureAppRole(db: pg.ClientBase, account: AppAccount): Promise<void> {
  const role = ident(account.username);
  // Never strip the connected owner (or any superuser) down to the application role by mistake,
  // e.g. a DATABASE_URL that still names the owner.
  const target = await db.query<{ super: boolean; self: boolean }>(
    'SELECT rolsuper AS super, rolname = current_user AS self FROM pg_roles WHERE rolname = $1',
    [account.username],
  );
  if (target.rows[0]?.self || target.rows[0]?.super)
    throw new Error(
      `DATABASE_URL names '${account.username}', the tables' owner or a superuser: the application needs a role of its own`,
    );
  const attributes = `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT PASSWORD ${literal(account.password)}`;
  const exists = await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [account.username]);
  await db.query(`${exists.rowCount ? 'ALTER' : 'CREATE'} ROLE ${role} ${attributes}`);
  const database = (await db.query<{ db: string }>('SELECT current_database() AS db')).rows[0]!.db;
  await db.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${ident(database)} TO ${role}`);
  await db.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
  await db.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${role}`);
  await db.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role}`);
  await db.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${role}`);
  const present = await db.query<{ name: string }>(
    `SELECT relname AS name FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname IN ('audit_log', '_prisma_migrations')`,
  );
  const tables = new Set(present.rows.map((r) => r.name));
  if (tables.has('audit_log')) await db.query(`REVOKE UPDATE, DELETE ON audit_log FROM ${role}`);
  if (tables.has('_prisma_migrations')) await db.query(`REVOKE ALL ON _prisma_migrations FROM ${role}`);
}
