// The broker accounts of the platform's own services live under `svc:`, a prefix no serial can
// take (SERIAL_PATTERN allows no ':'), so a device can never be given a service's name. Before
// this namespace they were plain names (`admin`, `ingest`, `simulated-fleet`) that a serial could
// claim: setup moves each one once, keeping its password and roles, and deletes the old name only
// when it is still that service's account.
import mqtt from 'mqtt';
import { type Env, type MqttConfig, readMqttConfig } from '../config';
import { BrokerAdmin } from './broker-admin';
import type { BrokerClient } from './device-accounts';
import { SERVICE_ROLES } from './roles';

export const SERVICE_ACCOUNT_PREFIX = 'svc:';
/** The role `mosquitto_ctrl dynsec init` gives the administration account. */
export const ADMIN_ROLE = 'admin';

const legacyName = (username: string) => username.slice(SERVICE_ACCOUNT_PREFIX.length);

/**
 * Connects as the administration account; on a broker set up before the namespace (only the old
 * name exists, same password) first creates the new account from the old one.
 */
export async function connectAdminMovingLegacy(config: MqttConfig): Promise<BrokerAdmin> {
  try {
    return await BrokerAdmin.connect(config);
  } catch (error) {
    const legacy = await BrokerAdmin.connect({ ...config, username: legacyName(config.username) }).catch(() => {
      throw error;
    });
    try {
      await legacy.ensureClient(config.username, config.password, [ADMIN_ROLE]);
    } finally {
      await legacy.close();
    }
    return BrokerAdmin.connect(config);
  }
}

/**
 * Deletes the account of the service's old name if it has exactly the service's roles (a device or
 * anything else of that name is left alone). Returns whether it did.
 */
export async function retireLegacyAccount(admin: BrokerAdmin, username: string, rolenames: string[]): Promise<boolean> {
  if (!username.startsWith(SERVICE_ACCOUNT_PREFIX))
    throw new Error(`service account '${username}' must be named ${SERVICE_ACCOUNT_PREFIX}...`);
  const old = legacyName(username);
  const answer = await admin.run({ command: 'getClient', username: old });
  const client = (answer.data as { client?: BrokerClient } | undefined)?.client;
  const roles = (client?.roles ?? []).map((r) => r.rolename).sort();
  if (answer.error || roles.join() !== [...rolenames].sort().join()) return false;
  await admin.ensure({ command: 'deleteClient', username: old });
  return true;
}

// The simulated fleet's account (`MQTT_FLEET_USERNAME`, role `simulated-fleet`) may publish for
// every serial, so it exists only where a simulated fleet runs: setup never creates it; whoever
// starts a fleet that publishes with it (the simulator CLI, the demo seed, the test harness) calls
// ensureFleetAccount first, and an operator removes it with `npm run ops -- fleet-account remove`.
export const FLEET_ROLE = 'simulated-fleet';

/** Whether the broker lets this account in: 'connected', or its refusal. */
export function brokerLogin(config: MqttConfig): Promise<string> {
  return new Promise((resolve) => {
    const client = mqtt.connect(config.url, {
      username: config.username,
      password: config.password,
      clientId: `login-check-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    client.once('connect', () => {
      client.end(true);
      resolve('connected');
    });
    client.once('error', (e) => {
      client.end(true);
      resolve(e.message);
    });
    client.once('close', () => resolve('connection closed'));
  });
}

/**
 * The roles of the broker account named as the fleet's, or null when there is none. An account of
 * that name with any other role is not the fleet's: refused, so nothing here re-keys or deletes it.
 */
async function fleetAccountRoles(admin: BrokerAdmin, username: string): Promise<string[] | null> {
  const answer = await admin.run({ command: 'getClient', username });
  const client = (answer.data as { client?: BrokerClient } | undefined)?.client;
  if (answer.error || !client) return null;
  const roles = (client.roles ?? []).map((r) => r.rolename).sort();
  if (roles.some((r) => r !== FLEET_ROLE))
    throw new Error(
      `broker account '${username}' has roles ${roles.join(', ')}, not only ${FLEET_ROLE}: not the fleet account, left alone`,
    );
  return roles;
}

/** Whether the fleet account exists (the operator's `fleet-account status`). */
export async function fleetAccountExists(env: Env): Promise<boolean> {
  const admin = await BrokerAdmin.connect(readMqttConfig(env, 'ADMIN'));
  try {
    return (await fleetAccountRoles(admin, readMqttConfig(env, 'FLEET').username)) !== null;
  } finally {
    await admin.close();
  }
}

/**
 * Makes the fleet account exist with its role and configured password (MQTT_FLEET_*), through the
 * broker's administration account (MQTT_ADMIN_*). An account that already works is left alone: the
 * broker would drop fleets connected with it if it were re-keyed. Returns what it did.
 */
export async function ensureFleetAccount(env: Env): Promise<'created' | 'repaired' | 'unchanged'> {
  const fleet = readMqttConfig(env, 'FLEET');
  const admin = await BrokerAdmin.connect(readMqttConfig(env, 'ADMIN'));
  try {
    if ((await admin.run({ command: 'getRole', rolename: FLEET_ROLE })).error)
      await admin.ensureRole(FLEET_ROLE, SERVICE_ROLES[FLEET_ROLE]);
    const roles = await fleetAccountRoles(admin, fleet.username);
    if (roles === null) {
      await admin.ensureClient(fleet.username, fleet.password, [FLEET_ROLE]);
      return 'created';
    }
    let repaired = false;
    if (roles.length === 0) {
      await admin.ensure({ command: 'addClientRole', username: fleet.username, rolename: FLEET_ROLE });
      repaired = true;
    }
    if ((await brokerLogin(fleet)) !== 'connected') {
      await admin.ensure({ command: 'setClientPassword', username: fleet.username, password: fleet.password });
      repaired = true;
    }
    return repaired ? 'repaired' : 'unchanged';
  } finally {
    await admin.close();
  }
}

/** Deletes the fleet account (the operator's `fleet-account remove`); refuses an account that is not one. */
export async function removeFleetAccount(env: Env): Promise<'removed' | 'absent'> {
  const fleet = readMqttConfig(env, 'FLEET');
  const admin = await BrokerAdmin.connect(readMqttConfig(env, 'ADMIN'));
  try {
    if ((await fleetAccountRoles(admin, fleet.username)) === null) return 'absent';
    await admin.ensure({ command: 'deleteClient', username: fleet.username });
    return 'removed';
  } finally {
    await admin.close();
  }
}

/** One line for a CLI: what ensureFleetAccount did and how to undo it. */
export function fleetAccountNote(env: Env, outcome: 'created' | 'repaired' | 'unchanged'): string {
  const name = readMqttConfig(env, 'FLEET').username;
  return (
    `fleet account ${name}: ${outcome === 'unchanged' ? 'present' : outcome} (publishes for every serial; ` +
    `remove it where no simulated fleet runs: npm run ops -- fleet-account remove)`
  );
}
