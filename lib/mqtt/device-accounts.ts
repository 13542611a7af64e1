// Per-inverter broker accounts: username = serial, a role allowing publication only under
// solar/v1/{serial}/. Decommissioning deletes both, so the device can no longer connect.
// Provisioning touches only accounts it made as device accounts (marked, with exactly the
// device's role): any other account of that name is refused, never re-keyed or deleted.
import { randomBytes } from 'node:crypto';
import { TOPIC_PREFIX } from '../telemetry/contract';
import type { BrokerAdmin, DynsecCommand } from './broker-admin';

export const deviceRole = (serial: string) => `device-${serial}`;
/** The dynsec `textname` of every device account: what tells it apart from any other account. */
export const DEVICE_MARK = 'solar device account';

/** A broker account of that name exists and is not a device account: the name is not the device's to take. */
export class BrokerAccountConflict extends Error {
  constructor(readonly serials: string[]) {
    super(`serial: the broker already has an account named ${serials.join(', ')} that is not a device account`);
    this.name = 'BrokerAccountConflict';
  }
}

export interface BrokerClient {
  username: string;
  textname?: string;
  roles?: { rolename: string }[];
}

const hasOnlyDeviceRole = (client: BrokerClient) =>
  client.roles?.length === 1 && client.roles[0]!.rolename === deviceRole(client.username);
/** Made by provisioning. Accounts made before the mark existed are recognised by their role alone. */
export const isDeviceAccount = (client: BrokerClient) =>
  hasOnlyDeviceRole(client) && (client.textname === DEVICE_MARK || !client.textname);

/** The broker's accounts of these names (absent ones are missing from the map). */
async function getClients(admin: BrokerAdmin, usernames: string[]): Promise<Map<string, BrokerClient>> {
  const answers = await admin.runMany(usernames.map((username) => ({ command: 'getClient', username })));
  const found = new Map<string, BrokerClient>();
  answers.forEach((answer, k) => {
    if (answer.error && /not found/i.test(answer.error)) return;
    if (answer.error) throw new Error(`broker refused getClient: ${answer.error}`);
    found.set(usernames[k]!, (answer.data as { client: BrokerClient }).client);
  });
  return found;
}

async function runAll(admin: BrokerAdmin, commands: DynsecCommand[], harmless?: RegExp): Promise<void> {
  if (commands.length === 0) return;
  const failed = (await admin.runMany(commands)).find((a) => a.error && !harmless?.test(a.error));
  if (failed) throw new Error(`broker refused ${failed.command}: ${failed.error}`);
}

/** Creates (or re-keys) a device's account; returns the new password, to be shown once. */
export async function provisionDevice(admin: BrokerAdmin, serial: string): Promise<string> {
  return (await provisionDevices(admin, [serial])).get(serial)!;
}

/**
 * Provisions many devices at once, in batches: new accounts are created, existing device accounts
 * re-keyed. Throws BrokerAccountConflict, before changing anything in that batch, when a name
 * belongs to an account that is not a device account. Returns serial -> password (each shown once).
 */
export async function provisionDevices(
  admin: BrokerAdmin,
  serials: string[],
  onProgress?: (done: number) => void,
): Promise<Map<string, string>> {
  const passwords = new Map<string, string>();
  const BATCH = 100;
  for (let i = 0; i < serials.length; i += BATCH) {
    const batch = serials
      .slice(i, i + BATCH)
      .map((serial) => ({ serial, password: randomBytes(18).toString('base64url') }));
    const existing = await getClients(
      admin,
      batch.map((b) => b.serial),
    );
    const foreign = [...existing.values()].filter((c) => !isDeviceAccount(c)).map((c) => c.username);
    if (foreign.length > 0) throw new BrokerAccountConflict(foreign);
    const fresh = batch.filter((b) => !existing.has(b.serial));
    await runAll(
      admin,
      fresh.flatMap(({ serial }) => [
        { command: 'createRole', rolename: deviceRole(serial) },
        {
          command: 'addRoleACL',
          rolename: deviceRole(serial),
          acltype: 'publishClientSend',
          topic: `${TOPIC_PREFIX}/${serial}/#`,
          allow: true,
          priority: 0,
        },
      ]),
      // A role left by an earlier, interrupted provisioning is fine: its ACL is already there.
      /already exists/i,
    );
    await runAll(admin, [
      ...fresh.map(({ serial, password }) => ({
        command: 'createClient',
        username: serial,
        password,
        textname: DEVICE_MARK,
        roles: [{ rolename: deviceRole(serial) }],
      })),
      ...batch
        .filter((b) => existing.has(b.serial))
        .flatMap(({ serial, password }) => [
          { command: 'setClientPassword', username: serial, password },
          { command: 'modifyClient', username: serial, textname: DEVICE_MARK },
        ]),
    ]);
    for (const { serial, password } of batch) passwords.set(serial, password);
    onProgress?.(Math.min(serials.length, i + BATCH));
  }
  return passwords;
}

/** Deletes a device's account and role; refuses (BrokerAccountConflict) if the name is not a device account. */
export async function revokeDevice(admin: BrokerAdmin, serial: string): Promise<void> {
  const client = (await getClients(admin, [serial])).get(serial);
  if (client && !isDeviceAccount(client)) throw new BrokerAccountConflict([serial]);
  for (const command of [
    { command: 'deleteClient', username: serial },
    { command: 'deleteRole', rolename: deviceRole(serial) },
  ]) {
    const response = await admin.run(command);
    if (response.error && !/not found/i.test(response.error))
      throw new Error(`broker refused ${command.command} for ${serial}: ${response.error}`);
  }
}

/** Every device account on the broker (paged through listClients). */
export async function listDeviceAccounts(admin: BrokerAdmin): Promise<string[]> {
  const answer = await admin.run({ command: 'listClients', verbose: true, count: -1, offset: 0 });
  if (answer.error) throw new Error(`broker refused listClients: ${answer.error}`);
  const clients = (answer.data as { clients?: BrokerClient[] }).clients ?? [];
  return clients.filter(isDeviceAccount).map((c) => c.username);
}
