// The broker accounts of the platform's own services live under `svc:`, a prefix no serial can
// take (SERIAL_PATTERN allows no ':'), so a device can never be given a service's name. Before
// this namespace they were plain names (`admin`, `ingest`, `simulated-fleet`) that a serial could
// claim: setup moves each one once, keeping its password and roles, and deletes the old name only
// when it is still that service's account.
import type { MqttConfig } from '../config';
import { BrokerAdmin } from './broker-admin';
import type { BrokerClient } from './device-accounts';

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
