// Gateway broker accounts: one account per gateway box (`gw:{id}`), allowed to publish only under
// the serials of the inverters it reads (its role holds one `solar/v1/{serial}/#` ACL per inverter)
// and to read only their confirmations from ingest (`solar/stored/v1/{serial}`: what ingest stored).
//
// Why one account per gateway rather than per inverter: the gateway holds one outbox and flushes it
// over one TLS connection (2,000 sites after a broker restart are 2,000 handshakes, not one per
// inverter), and its credentials live on one box anyway: a per-inverter password on the same SD
// card adds no separation. The ACL keeps the rule that matters: what a box can publish is only its
// own inverters' topics, and no two gateways can claim one serial. `gw:` contains ':', which no
// serial may (SERIAL_PATTERN), so a device account can never take a gateway's name or back.
import { randomBytes } from 'node:crypto';
import { storedTopic, TOPIC_PREFIX } from '../telemetry/contract';
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
/** What a gateway's role allows for one of its inverters: publish its telemetry, read its confirmations. */
const aclsOf = (serial: string): RoleAcl[] => [
  { acltype: 'publishClientSend', topic: topicOf(serial) },
  { acltype: 'subscribeLiteral', topic: storedTopic(serial) },
  { acltype: 'publishClientReceive', topic: storedTopic(serial) },
];
const aclKey = (acl: RoleAcl) => `${acl.acltype} ${acl.topic}`;

function check(answer: { error?: string }, what: string): void {
  if (answer.error) throw new Error(`broker refused ${what}: ${answer.error}`);
}

/** Serial -> gateway id for every gateway role on the broker, and each gateway role's ACLs. */
async function gatewayRoles(
  admin: BrokerAdmin,
): Promise<{ claimed: Map<string, string>; acls: Map<string, RoleAcl[]> }> {
  const answer = await admin.run({ command: 'listRoles', verbose: true, count: -1, offset: 0 });
  check(answer, 'listRoles');
  const roles = (answer.data as { roles?: { rolename: string; acls?: RoleAcl[] }[] }).roles ?? [];
  const claimed = new Map<string, string>();
  const acls = new Map<string, RoleAcl[]>();
  for (const role of roles) {
    if (!role.rolename.startsWith('gateway-')) continue;
    acls.set(role.rolename, role.acls ?? []);
    for (const acl of role.acls ?? []) {
      const serial = acl.topic.slice(TOPIC_PREFIX.length + 1, -2);
      if (acl.acltype === 'publishClientSend') claimed.set(serial, role.rolename.slice('gateway-'.length));
    }
  }
  return { claimed, acls };
}

/** Makes a gateway role's ACLs exactly those of `serials`; returns how many it changed. */
async function setRoleAcls(admin: BrokerAdmin, role: string, current: RoleAcl[], serials: string[]): Promise<number> {
  const wanted = serials.flatMap(aclsOf);
  const has = new Set(current.map(aclKey));
  const keep = new Set(wanted.map(aclKey));
  const commands = [
    ...wanted
      .filter((acl) => !has.has(aclKey(acl)))
      .map((acl) => ({ command: 'addRoleACL', rolename: role, ...acl, allow: true })),
    ...current
      .filter((acl) => !keep.has(aclKey(acl)))
      .map((acl) => ({ command: 'removeRoleACL', rolename: role, ...acl })),
  ];
  for (const answer of await admin.runMany(commands)) check(answer, answer.command);
  return commands.length;
}

/**
 * Brings every gateway role's ACLs up to date for the serials it publishes for (setup runs it: a
 * role provisioned before ingest's confirmations gains the right to read them). Returns the roles changed.
 */
export async function updateGatewayRoles(admin: BrokerAdmin): Promise<string[]> {
  const { claimed, acls } = await gatewayRoles(admin);
  const changed: string[] = [];
  for (const [role, current] of acls) {
    const id = role.slice('gateway-'.length);
    const serials = [...claimed].filter(([, gw]) => gw === id).map(([serial]) => serial);
    if ((await setRoleAcls(admin, role, current, serials)) > 0) changed.push(role);
  }
  return changed;
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
  const { claimed, acls } = await gatewayRoles(admin);
  const taken = serials.filter((s) => claimed.has(s) && claimed.get(s) !== id);
  if (taken.length > 0)
    throw new Error(
      `serial ${taken.map((s) => `${s} (gateway ${claimed.get(s)})`).join(', ')} already belongs to another gateway`,
    );
  const role = gatewayRole(id);
  await admin.ensure({ command: 'createRole', rolename: role, textname: GATEWAY_MARK }, { allowExisting: true });
  await setRoleAcls(admin, role, acls.get(role) ?? [], serials);
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
