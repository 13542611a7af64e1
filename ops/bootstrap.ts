// Part of setup: makes InfluxDB, the broker's service accounts and the reference data match what
// the platform expects. Idempotent; prints what it changed.
import { readInfluxConfig, readMqttConfig, readDatabaseOwnerUrl, readDatabaseUrl } from '../lib/config';
import { appAccountOf, ensureAppRole } from '../lib/db-roles';
import { InfluxClient } from '../lib/influx/client';
import { ensureInfluxLayout } from '../lib/influx/layout';
import { ensureInfluxUsers, InfluxAdminRefused } from '../lib/influx/users';
import { createPrisma } from '../lib/db';
import { loadProvinces } from '../lib/provinces';
import { updateGatewayRoles } from '../lib/mqtt/gateway-accounts';
import { SERVICE_ROLES } from '../lib/mqtt/roles';
import { ADMIN_ROLE, connectAdminMovingLegacy, FLEET_ROLE, retireLegacyAccount } from '../lib/mqtt/service-accounts';
import pg from 'pg';
import { ensureReaderRole, readReaderAccount } from '../dashboards';
import { upsertProvinces } from '../registry';

const say = (message: string) => console.log(`    ${message}`);

const influxConfig = readInfluxConfig(process.env, 'ADMIN');
try {
  const users = await ensureInfluxUsers({
    admin: influxConfig,
    writer: readInfluxConfig(process.env, 'WRITER'),
    reader: readInfluxConfig(process.env, 'READER'),
  });
  say(`InfluxDB users: ${users.length ? users.join('; ') : 'admin, writer and reader up to date'}`);
} catch (error) {
  if (!(error instanceof InfluxAdminRefused)) throw error;
  console.error(`error: ${error.message}`);
  process.exit(1);
}
const changes = await ensureInfluxLayout(new InfluxClient(influxConfig), influxConfig.rawRetention);
say(`InfluxDB '${influxConfig.database}': ${changes.length ? `created ${changes.join(', ')}` : 'layout up to date'}`);

const adminConfig = readMqttConfig(process.env, 'ADMIN');
const admin = await connectAdminMovingLegacy(adminConfig);
try {
  for (const [rolename, acls] of Object.entries(SERVICE_ROLES)) await admin.ensureRole(rolename, acls);
  const gatewaysUpdated = await updateGatewayRoles(admin);
  if (gatewaysUpdated.length > 0)
    say(`broker: ${gatewaysUpdated.length} gateway role(s) brought up to date (ingest's confirmations)`);
  const ingest = readMqttConfig(process.env, 'INGEST');
  await admin.ensureClient(ingest.username, ingest.password, ['ingest-service']);
  // The simulated fleet's account is not made here: it may publish for every serial, so it exists
  // only where a fleet runs (lib/mqtt/service-accounts.ts ensureFleetAccount).
  const fleet = readMqttConfig(process.env, 'FLEET');
  const moved: string[] = [];
  for (const [account, roles] of [
    [adminConfig, [ADMIN_ROLE]],
    [ingest, ['ingest-service']],
    [fleet, [FLEET_ROLE]],
  ] as const)
    if (await retireLegacyAccount(admin, account.username, [...roles])) moved.push(account.username);
  const fleetExists = !(await admin.run({ command: 'getClient', username: fleet.username })).error;
  say(
    `broker accounts: ${adminConfig.username} (administration), ${ingest.username} (subscribe only)` +
      `${moved.length ? `; retired old names: ${moved.join(', ')}` : ''}`,
  );
  say(
    fleetExists
      ? `broker account ${fleet.username} (simulated fleets, publish for every serial) exists; remove it where no ` +
          `simulated fleet runs: npm run ops -- fleet-account remove`
      : `no simulated-fleet account (a simulated fleet makes ${fleet.username} when it starts)`,
  );
} finally {
  await admin.close();
}

const ownerUrl = readDatabaseOwnerUrl(process.env);
const prisma = createPrisma(ownerUrl);
try {
  say(`provinces: ${await upsertProvinces(prisma, loadProvinces())} in the registry`);
} finally {
  await prisma.$disconnect();
}

const reader = readReaderAccount(process.env);
const client = new pg.Client({ connectionString: ownerUrl });
await client.connect();
try {
  const app = appAccountOf(readDatabaseUrl(process.env));
  await ensureAppRole(client, app);
  say(`PostgreSQL application role: ${app.username} (owns no table; reads and writes rows, appends to the audit log)`);
  const granted = await ensureReaderRole(client, reader);
  say(`PostgreSQL read-only role for Grafana: ${reader.username} (reads ${granted.length} tables)`);
} finally {
  await client.end();
}
