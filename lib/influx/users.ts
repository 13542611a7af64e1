// InfluxDB's users, one per kind of access (lib/config.ts `InfluxRole`), made and kept right by
// setup (ops/bootstrap.ts): the admin administers, the writer (ingest) may only write the
// platform's database, the reader (API, billing, alerts, Grafana) may only query it.
//
// InfluxDB 1.x with `auth-enabled = true` answers every request 401 without valid credentials once
// an admin exists; while none exists it accepts exactly one statement unauthenticated,
// `CREATE USER ... WITH ALL PRIVILEGES` (everything else answers 403 "create admin user first").
// That is how a machine set up before authentication gets its first admin, with its data kept.
import type { InfluxConfig } from '../config';
import { InfluxClient, InfluxError, influxIdent, influxString } from './client';

export interface InfluxAccounts {
  admin: InfluxConfig;
  writer: InfluxConfig;
  reader: InfluxConfig;
}

/** The admin's credentials are refused, or the account is no admin: setup cannot go on. */
export class InfluxAdminRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InfluxAdminRefused';
  }
}

type Privilege = 'READ' | 'WRITE';
const NO_ADMIN_YET = /create admin user first/i;

/**
 * Makes the three users exist with the configured passwords and exactly their access: the writer
 * WRITE and the reader READ on the platform's database (created if missing), neither an admin nor
 * holding more anywhere. Idempotent; returns what it changed (empty when everything was right).
 */
export async function ensureInfluxUsers(accounts: InfluxAccounts): Promise<string[]> {
  const changes: string[] = [];
  const admin = new InfluxClient(accounts.admin);
  const adminName = accounts.admin.username ?? '';
  let users = await listUsers(admin, accounts.admin).catch(async (error: unknown) => {
    if (!(error instanceof InfluxError && error.status === 403 && NO_ADMIN_YET.test(error.body))) throw error;
    // No admin yet (a fresh InfluxDB, or one set up before authentication): the one statement allowed.
    await admin.query(
      `CREATE USER ${influxIdent(adminName)} WITH PASSWORD ${influxString(accounts.admin.password ?? '')} WITH ALL PRIVILEGES`,
      { database: null },
    );
    changes.push(`admin ${adminName} created (first admin)`);
    return listUsers(admin, accounts.admin);
  });
  if (!users.has(adminName)) {
    // Only when authentication is off (nothing is enforced then): make the admin for when it is on.
    await admin.query(
      `CREATE USER ${influxIdent(adminName)} WITH PASSWORD ${influxString(accounts.admin.password ?? '')} WITH ALL PRIVILEGES`,
      { database: null },
    );
    changes.push(`admin ${adminName} created`);
    users = await listUsers(admin, accounts.admin);
  }
  const database = accounts.admin.database;
  await admin.query(`CREATE DATABASE ${influxIdent(database)}`, { database: null });
  for (const [account, privilege] of [
    [accounts.writer, 'WRITE'],
    [accounts.reader, 'READ'],
  ] as const) {
    const name = account.username ?? '';
    if (name === adminName)
      throw new InfluxAdminRefused(`the InfluxDB ${privilege} user must not be the admin '${name}'`);
    changes.push(...(await ensureUser(admin, account, users.get(name), privilege)));
    changes.push(...(await grantDatabase(admin, name, privilege, database)));
  }
  return changes;
}

/** Gives the writer WRITE and the reader READ on a database (a test's own, or the platform's), and nothing more there. */
export async function grantInfluxDatabase(
  admin: InfluxClient,
  database: string,
  users: { writer: string; reader: string },
): Promise<string[]> {
  return [
    ...(await grantDatabase(admin, users.writer, 'WRITE', database)),
    ...(await grantDatabase(admin, users.reader, 'READ', database)),
  ];
}

async function listUsers(admin: InfluxClient, config: InfluxConfig): Promise<Map<string, boolean>> {
  try {
    const [series = []] = await admin.query('SHOW USERS', { database: null });
    return new Map((series[0]?.values ?? []).map((v) => [String(v[0]), v[1] === true]));
  } catch (error) {
    if (!(error instanceof InfluxError) || (error.status !== 401 && error.status !== 403)) throw error;
    if (error.status === 403 && NO_ADMIN_YET.test(error.body)) throw error;
    const where = config.url;
    throw new InfluxAdminRefused(
      error.status === 401
        ? `InfluxDB at ${where} refused the admin '${config.username}' (401): an admin exists whose password is not INFLUX_ADMIN_PASSWORD. ` +
            'Put the right password in .data/<profile>/secrets.env and re-run setup; or, if it is lost, reset it: set ' +
            '`auth-enabled = false` under [http] in .data/<profile>/influxdb/influxdb.conf, `npm run services restart influxdb`, ' +
            `run \`SET PASSWORD FOR "${config.username}" = '<INFLUX_ADMIN_PASSWORD>'\` (POST ${where}/query), ` +
            'then re-run setup (it turns authentication on again).'
        : `InfluxDB at ${where}: '${config.username}' signs in but is not an admin (${error.message}). Grant it ` +
            `with an admin: GRANT ALL PRIVILEGES TO "${config.username}", then re-run setup.`,
    );
  }
}

async function ensureUser(
  admin: InfluxClient,
  account: InfluxConfig,
  isAdmin: boolean | undefined,
  privilege: Privilege,
): Promise<string[]> {
  const name = account.username ?? '';
  const password = influxString(account.password ?? '');
  if (isAdmin === undefined) {
    await admin.query(`CREATE USER ${influxIdent(name)} WITH PASSWORD ${password}`, { database: null });
    return [`${privilege === 'WRITE' ? 'writer' : 'reader'} ${name} created`];
  }
  const changes: string[] = [];
  if (isAdmin) {
    await admin.query(`REVOKE ALL PRIVILEGES FROM ${influxIdent(name)}`, { database: null });
    changes.push(`${name}: admin privilege revoked`);
  }
  // Passwords are stored hashed: check the configured one by signing in with it (a cheap SHOW).
  const signIn = await new InfluxClient(account).query('SHOW DATABASES', { database: null }).then(
    () => 200,
    (error: unknown) => (error instanceof InfluxError ? error.status : null),
  );
  if (signIn === 401) {
    await admin.query(`SET PASSWORD FOR ${influxIdent(name)} = ${password}`, { database: null });
    changes.push(`${name}: password set from secrets.env`);
  }
  return changes;
}

async function grantDatabase(
  admin: InfluxClient,
  user: string,
  wanted: Privilege,
  database: string,
): Promise<string[]> {
  const [series = []] = await admin.query(`SHOW GRANTS FOR ${influxIdent(user)}`, { database: null });
  const grants = new Map((series[0]?.values ?? []).map((v) => [String(v[0]), String(v[1])]));
  const changes: string[] = [];
  // Anywhere: more than its one privilege (ALL, or the other one) goes, keeping at most its own.
  for (const [db, held] of grants) {
    if (held === wanted || held === 'NO PRIVILEGES') continue;
    await admin.query(`REVOKE ALL ON ${influxIdent(db)} FROM ${influxIdent(user)}`, { database: null });
    const keep = held === 'ALL PRIVILEGES' || db === database;
    if (keep) await admin.query(`GRANT ${wanted} ON ${influxIdent(db)} TO ${influxIdent(user)}`, { database: null });
    grants.set(db, keep ? wanted : 'NO PRIVILEGES');
    changes.push(`${user}: ${held} on ${db} reduced to ${keep ? wanted : 'nothing'}`);
  }
  if (grants.get(database) !== wanted) {
    await admin.query(`GRANT ${wanted} ON ${influxIdent(database)} TO ${influxIdent(user)}`, { database: null });
    changes.push(`${user}: ${wanted} on ${database}`);
  }
  return changes;
}
