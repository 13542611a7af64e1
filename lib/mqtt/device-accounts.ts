// Per-inverter broker accounts: username = serial, a role allowing publication only under
// solar/v1/{serial}/. Decommissioning deletes both, so the device can no longer connect.
import { randomBytes } from 'node:crypto';
import { TOPIC_PREFIX } from '../telemetry/contract';
import type { BrokerAdmin } from './broker-admin';

export const deviceRole = (serial: string) => `device-${serial}`;

/** Creates (or re-keys) a device's account; returns the new password, to be shown once. */
export async function provisionDevice(admin: BrokerAdmin, serial: string): Promise<string> {
  return (await provisionDevices(admin, [serial])).get(serial)!;
}

/**
 * Provisions many devices at once, in batches: new accounts are created, existing ones re-keyed.
 * Returns serial -> password (each shown once).
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
    const created = await admin.runMany(
      batch.flatMap(({ serial, password }) => [
        { command: 'createRole', rolename: deviceRole(serial) },
        {
          command: 'addRoleACL',
          rolename: deviceRole(serial),
          acltype: 'publishClientSend',
          topic: `${TOPIC_PREFIX}/${serial}/#`,
          allow: true,
          priority: 0,
        },
        { command: 'createClient', username: serial, password, roles: [{ rolename: deviceRole(serial) }] },
      ]),
    );
    const rekey = batch.filter((_, k) => /already exists/i.test(created[k * 3 + 2]?.error ?? ''));
    if (rekey.length > 0) {
      const answers = await admin.runMany(
        rekey.flatMap(({ serial, password }) => [
          { command: 'setClientPassword', username: serial, password },
          { command: 'modifyClient', username: serial, roles: [{ rolename: deviceRole(serial) }] },
        ]),
      );
      const failed = answers.find((a) => a.error);
      if (failed) throw new Error(`broker refused ${failed.command}: ${failed.error}`);
    }
    const failed = created.find((a) => a.error && !/already exists/i.test(a.error));
    if (failed) throw new Error(`broker refused ${failed.command}: ${failed.error}`);
    for (const { serial, password } of batch) passwords.set(serial, password);
    onProgress?.(Math.min(serials.length, i + BATCH));
  }
  return passwords;
}

export async function revokeDevice(admin: BrokerAdmin, serial: string): Promise<void> {
  for (const command of [
    { command: 'deleteClient', username: serial },
    { command: 'deleteRole', rolename: deviceRole(serial) },
  ]) {
    const response = await admin.run(command);
    if (response.error && !/not found/i.test(response.error))
      throw new Error(`broker refused ${command.command} for ${serial}: ${response.error}`);
  }
}
