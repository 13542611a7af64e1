// Administration of Mosquitto's dynamic-security plugin over MQTT ($CONTROL/dynamic-security/v1):
// the real mechanism behind per-device credentials and the service accounts.
import mqtt, { type MqttClient } from 'mqtt';
import type { MqttConfig } from '../config';
import { endClient } from './end-client';

const CONTROL_TOPIC = '$CONTROL/dynamic-security/v1';
const RESPONSE_TOPIC = `${CONTROL_TOPIC}/response`;
/**
 * How long a close waits for the broker to acknowledge a command still under way: one the caller
 * gave up on (no answer within its timeout), which a broker that answers has long acknowledged.
 */
const CLOSE_GRACE_MS = 2000;

export type DynsecCommand = { command: string } & Record<string, unknown>;
export interface DynsecResponse {
  command: string;
  error?: string;
  data?: unknown;
  correlationData?: string;
}

/** The administration connection is gone (broker down or restarted, account kicked): retry later. */
export class BrokerUnavailable extends Error {
  constructor(reason: string) {
    super(`the broker's administration connection is unavailable: ${reason}`);
    this.name = 'BrokerUnavailable';
  }
}

type Pending = { resolve: (response: DynsecResponse) => void; reject: (error: Error) => void };

export class BrokerAdmin {
  private readonly pending = new Map<string, Pending>();
  private sequence = 0;
  /** Why the connection ended, once it has: every later command fails at once with it. */
  private lost: string | null = null;

  private constructor(private readonly client: MqttClient) {
    client.on('message', (topic, payload) => {
      if (topic !== RESPONSE_TOPIC) return;
      let responses: DynsecResponse[] = [];
      try {
        responses = (JSON.parse(payload.toString()) as { responses?: DynsecResponse[] }).responses ?? [];
      } catch {
        return; // not an answer of the plugin: ignore it rather than end the process
      }
      for (const response of responses) {
        const waiting = response.correlationData ? this.pending.get(response.correlationData) : undefined;
        if (waiting) {
          this.pending.delete(response.correlationData!);
          waiting.resolve(response);
        }
      }
    });
    // Without these listeners a dropped connection is an unhandled 'error' event: the process dies.
    client.on('error', (error) => this.fail(error.message));
    client.on('close', () => this.fail('connection closed'));
  }

  private fail(reason: string) {
    this.lost ??= reason;
    const error = new BrokerUnavailable(reason);
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }

  /** False once the connection has ended; a new one must be opened. */
  get usable(): boolean {
    return this.lost === null;
  }

  static async connect(config: MqttConfig): Promise<BrokerAdmin> {
    const client = mqtt.connect(config.url, {
      username: config.username,
      password: config.password,
      clientId: `admin-${process.pid}-${Date.now()}`,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const refuse = (reason: string) =>
          reject(new BrokerUnavailable(`cannot connect as '${config.username}': ${reason}`));
        client.once('connect', () => resolve());
        client.on('error', (error) => refuse(error.message));
        client.once('close', () => refuse('connection closed'));
      });
      const admin = new BrokerAdmin(client);
      await client.subscribeAsync(RESPONSE_TOPIC, { qos: 1 });
      return admin;
    } catch (error) {
      client.end(true);
      throw error;
    }
  }

  /** Runs one command; resolves with the broker's response (check `.error`). */
  async run(command: DynsecCommand, timeoutMs = 10_000): Promise<DynsecResponse> {
    return (await this.runMany([command], timeoutMs))[0]!;
  }

  /** Runs many commands in one message (the plugin saves its configuration once per message). */
  async runMany(commands: DynsecCommand[], timeoutMs = 60_000): Promise<DynsecResponse[]> {
    if (this.lost !== null) throw new BrokerUnavailable(this.lost);
    const tagged = commands.map((command) => ({ ...command, correlationData: `${process.pid}-${++this.sequence}` }));
    const responses = tagged.map(
      ({ correlationData, command }) =>
        new Promise<DynsecResponse>((resolve, reject) => {
          const timer = setTimeout(() => {
            this.pending.delete(correlationData);
            reject(new BrokerUnavailable(`no answer to ${command} within ${timeoutMs} ms`));
          }, timeoutMs);
          const settle =
            <T>(then: (value: T) => void) =>
            (value: T) => {
              clearTimeout(timer);
              then(value);
            };
          this.pending.set(correlationData, { resolve: settle(resolve), reject: settle(reject) });
        }),
    );
    // Not awaited: on a dropped connection mqtt.js never settles the publish; the answers (or the
    // timeouts, or the 'close' event) settle the call.
    this.client
      .publishAsync(CONTROL_TOPIC, JSON.stringify({ commands: tagged }), { qos: 1 })
      .catch((error: Error) => this.fail(error.message));
    return Promise.all(responses);
  }

  /** Runs a command that must succeed (an "already exists" answer counts as success when allowed). */
  async ensure(command: DynsecCommand, options: { allowExisting?: boolean } = {}): Promise<'done' | 'existed'> {
    const response = await this.run(command);
    if (!response.error) return 'done';
    if (options.allowExisting && /already exists/i.test(response.error)) return 'existed';
    throw new Error(`broker refused ${command.command}: ${response.error}`);
  }

  /** Creates or updates a role with exactly these ACLs. */
  async ensureRole(
    rolename: string,
    acls: { acltype: string; topic: string; allow: boolean; priority?: number }[],
  ): Promise<void> {
    const created = await this.ensure({ command: 'createRole', rolename }, { allowExisting: true });
    if (created === 'existed') {
      const current = await this.run({ command: 'getRole', rolename });
      const existing = (current.data as { role?: { acls?: { acltype: string; topic: string }[] } })?.role?.acls ?? [];
      for (const acl of existing)
        await this.run({ command: 'removeRoleACL', rolename, acltype: acl.acltype, topic: acl.topic });
    }
    for (const acl of acls) await this.ensure({ command: 'addRoleACL', rolename, priority: 0, ...acl });
  }

  /** Creates a client (account) with a role, or resets its password and roles if it exists. */
  async ensureClient(username: string, password: string, rolenames: string[]): Promise<void> {
    const roles = rolenames.map((rolename) => ({ rolename }));
    const created = await this.ensure({ command: 'createClient', username, password, roles }, { allowExisting: true });
    if (created === 'existed') {
      await this.ensure({ command: 'setClientPassword', username, password });
      await this.ensure({ command: 'modifyClient', username, roles });
    }
  }

  /** Ends the connection; never waits for the acknowledgement of a command a silent or lost broker will not give. */
  async close(): Promise<void> {
    this.lost ??= 'closed';
    await endClient(this.client, CLOSE_GRACE_MS);
  }
}
