// Gateway broker accounts: one account per gateway box (`gw:{id}`), allowed to publish only under
// the serials of the inverters it reads (its role holds one `solar/v1/{serial}/#` ACL per inverter).
//
// Why one account per gateway rather than per inverter: the gateway holds one outbox and flushes it
// over one TLS connection (2,000 sites after a broker restart are 2,000 handshakes, not one per
// inverter), and its credentials live on one box anyway: a per-inverter password on the same SD
// card adds no separation. The ACL keeps the rule that matters: what a box can publish is only its
// own inverters' topics, and no two gateways can claim one serial. `gw:` contains ':', which no
// serial may (SERIAL_PATTERN), so a device account can never take a gateway's name or back.
import { randomBytes } from 'node:crypto';
import { TOPIC_PREFIX } from '../telemetry/contract';
import type { BrokerAdmin } from './broker-admin';

export const GATEWAY_ACCOUNT_PREFIX = 'gw:';
export const GATEWAY_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,47}$/;
export const GATEWAY_MARK = 'solar gateway account';
export const gatewayUsername = (id: string) => `${GATEWAY_ACCOUNT_PREFIX}${id}`;
export const gatewayRole = (id: string) => `gateway-${id}`;
const topicOf = (serial: string) => `${TOPIC_PREFIX}/${serial}/#`;

interface RoleAcl {
  acltype: string;
  topic: string;
}

function check(answer: { error?: string }, what: string): void {
  if (answer.error) throw new Error(`broker refused ${what}: ${answer.error}`);
}

/** Serial -> gateway id for every gateway role on the broker. */
async function claimedSerials(admin: BrokerAdmin): Promise<Map<string, string>> {
  const answer = await admin.run({ command: 'listRoles', verbose: true, count: -1, offset: 0 });
  check(answer, 'listRoles');
  const roles = (answer.data as { roles?: { rolename: string; acls?: RoleAcl[] }[] }).roles ?? [];
  const claimed = new Map<string, string>();
  for (const role of roles) {
    if (!role.rolename.startsWith('gateway-')) continue;
    for (const acl of role.acls ?? []) {
      const serial = acl.topic.slice(TOPIC_PREFIX.length + 1, -2);
      if (acl.acltype === 'publishClientSend') claimed.set(serial, role.rolename.slice('gateway-'.length));
    }
  }
  return claimed;
}

/**
 * Makes (or updates) a gateway's account so it may publish for exactly `serials`; returns a new
 * password (shown once) when the account is made or `rekey` is asked, else null. Refuses a serial
 * another gateway already publishes for.
 */
export async function provisionGateway(
  admin: BrokerAdmin,
  id: string,
  serials: string[],
  options: { rekey?: boolean } = {},
): Promise<string | null> {
  if (!GATEWAY_ID_PATTERN.test(id))
    throw new Error(
      `gateway id '${id}' must be 1-48 lower-case letters, digits or '-' (starting with a letter or digit)`,
    );
  const claimed = await claimedSerials(admin);
  const taken = serials.filter((s) => claimed.has(s) && claimed.get(s) !== id);
  if (taken.length > 0)
    throw new Error(
      `serial ${taken.map((s) => `${s} (gateway ${claimed.get(s)})`).join(', ')} already belongs to another gateway`,
    );
  const role = gatewayRole(id);
  await admin.ensure({ command: 'createRole', rolename: role, textname: GATEWAY_MARK }, { allowExisting: true });
  const current = [...claimed].filter(([, gw]) => gw === id).map(([serial]) => serial);
  const wanted = new Set(serials);
  const commands = [
    ...serials
      .filter((s) => !current.includes(s))
      .map((s) => ({
        command: 'addRoleACL',
        rolename: role,
        acltype: 'publishClientSend',
        topic: topicOf(s),
        allow: true,
      })),
    ...current
      .filter((s) => !wanted.has(s))
      .map((s) => ({ command: 'removeRoleACL', rolename: role, acltype: 'publishClientSend', topic: topicOf(s) })),
  ];
  for (const answer of await admin.runMany(commands)) check(answer, answer.command);
  const username = gatewayUsername(id);
  const existing = await admin.run({ command: 'getClient', username });
  if (existing.error && !/not found/i.test(existing.error)) check(existing, 'getClient');
  if (!existing.error && !options.rekey) return null;
  const password = randomBytes(24).toString('base64url');
  if (existing.error)
    check(
      await admin.run({
        command: 'createClient',
        username,
        password,
        textname: GATEWAY_MARK,
        roles: [{ rolename: role }],
      }),
      'createClient',
    );
  else check(await admin.run({ command: 'setClientPassword', username, password }), 'setClientPassword');
  return password;
}

/** Deletes a gateway's account and role (its inverters can then be given to another gateway). */
export async function removeGateway(admin: BrokerAdmin, id: string): Promise<void> {
  for (const command of [
    { command: 'deleteClient', username: gatewayUsername(id) },
    { command: 'deleteRole', rolename: gatewayRole(id) },
  ]) {
    const answer = await admin.run(command);
    if (answer.error && !/not found/i.test(answer.error)) check(answer, command.command);
  }
}
