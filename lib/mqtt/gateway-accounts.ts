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
import type { BrokerAdmin, DynsecCommand } from './broker-admin';

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

export interface GatewayInverters {
  id: string;
  serials: string[];
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
  return (await provisionGateways(admin, [{ id, serials }], options)).get(id)!;
}

/**
 * Provisions many gateways: each may then publish for exactly its serials; returns gateway id ->
 * new password (shown once) for accounts made, or re-keyed with `rekey`, else null. Refuses, before
 * changing anything, an invalid id or a serial claimed by another gateway (on the broker or in the
 * same call).
 *
 * Mosquitto 2.0.11's dynamic security rewrites its whole file after every command that changes
 * something, and serves no one meanwhile: one listRoles for the whole call, then per batch of
 * gateways one message of getClient and one of changes, where a new gateway is two changes (its
 * role created with its ACLs, its account with its role), a changed one one (modifyRole with its
 * new ACLs) and an unchanged one none.
 */
export async function provisionGateways(
  admin: BrokerAdmin,
  gateways: GatewayInverters[],
  options: { rekey?: boolean } = {},
  onProgress?: (done: number) => void,
): Promise<Map<string, string | null>> {
  const seen = new Set<string>();
  for (const { id } of gateways) {
    if (!GATEWAY_ID_PATTERN.test(id))
      throw new Error(
        `gateway id '${id}' must be 1-48 lower-case letters, digits or '-' (starting with a letter or digit)`,
      );
    if (seen.has(id)) throw new Error(`gateway id '${id}' is listed twice`);
    seen.add(id);
  }
  const { claimed, acls } = await gatewayRoles(admin);
  const provisioned = new Set(gateways.map((g) => g.id));
  // A gateway provisioned in this call gives up what it no longer lists, so another may take it.
  for (const [serial, id] of claimed) if (provisioned.has(id)) claimed.delete(serial);
  const taken: string[] = [];
  for (const { id, serials } of gateways)
    for (const serial of serials) {
      const owner = claimed.get(serial);
      if (owner !== undefined && owner !== id) taken.push(`${serial} (gateway ${owner})`);
      claimed.set(serial, id);
    }
  if (taken.length > 0) throw new Error(`serial ${taken.join(', ')} already belongs to another gateway`);

  const passwords = new Map<string, string | null>();
  // The broker serves no one while it runs a message's commands, each saving its file: at most 10
  // saves a message (40 held connections back for tens of seconds on a busy broker of 1,000 gateways).
  const BATCH = 5;
  for (let i = 0; i < gateways.length; i += BATCH) {
    const batch = gateways.slice(i, i + BATCH);
    const accounts = await admin.runMany(
      batch.map(({ id }) => ({ command: 'getClient', username: gatewayUsername(id) })),
    );
    const commands: DynsecCommand[] = [];
    batch.forEach(({ id, serials }, k) => {
      const role = gatewayRole(id);
      const wanted = [...new Set(serials)].flatMap(aclsOf);
      const current = acls.get(role);
      const full = wanted.map((acl) => ({ ...acl, allow: true, priority: 0 }));
      if (!current) commands.push({ command: 'createRole', rolename: role, textname: GATEWAY_MARK, acls: full });
      else {
        const has = new Set(current.map(aclKey));
        if (current.length !== wanted.length || wanted.some((acl) => !has.has(aclKey(acl))))
          commands.push({ command: 'modifyRole', rolename: role, acls: full });
      }
      const account = accounts[k]!;
      if (account.error && !/not found/i.test(account.error)) check(account, 'getClient');
      if (!account.error && !options.rekey) {
        passwords.set(id, null);
        return;
      }
      const password = randomBytes(24).toString('base64url');
      passwords.set(id, password);
      const username = gatewayUsername(id);
      commands.push(
        account.error
          ? { command: 'createClient', username, password, textname: GATEWAY_MARK, roles: [{ rolename: role }] }
          : { command: 'setClientPassword', username, password },
      );
    });
    for (const answer of commands.length > 0 ? await admin.runMany(commands) : []) check(answer, answer.command);
    onProgress?.(Math.min(gateways.length, i + BATCH));
  }
  return passwords;
}

/** Deletes a gateway's account and role (its inverters can then be given to another gateway). */
export async function removeGateway(admin: BrokerAdmin, id: string): Promise<void> {
  await removeGateways(admin, [id]);
}

/** Deletes gateways' accounts and roles, a batch of them per message; one already gone is fine. */
export async function removeGateways(admin: BrokerAdmin, ids: string[]): Promise<void> {
  const BATCH = 5; // as provisionGateways: at most 10 saves a message
  for (let i = 0; i < ids.length; i += BATCH) {
    const commands = ids.slice(i, i + BATCH).flatMap((id) => [
      { command: 'deleteClient', username: gatewayUsername(id) },
      { command: 'deleteRole', rolename: gatewayRole(id) },
    ]);
    for (const answer of await admin.runMany(commands))
      if (answer.error && !/not found/i.test(answer.error)) check(answer, answer.command);
  }
}
