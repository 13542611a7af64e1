// Administration of Mosquitto's dynamic-security plugin over MQTT ($CONTROL/dynamic-security/v1):
// the real mechanism behind per-device credentials and the service accounts.
import mqtt, { type MqttClient } from 'mqtt';
import type { MqttConfig } from '../config';

const CONTROL_TOPIC = '$CONTROL/dynamic-security/v1';
const RESPONSE_TOPIC = `${CONTROL_TOPIC}/response`;

export type DynsecCommand = { command: string } & Record<string, unknown>;
export interface DynsecResponse {
  command: string;
  error?: string;
  data?: unknown;
  correlationData?: string;
}

export class BrokerAdmin {
  private readonly pending = new Map<string, (response: DynsecResponse) => void>();
  private sequence = 0;

  private constructor(private readonly client: MqttClient) {
    client.on('message', (topic, payload) => {
      if (topic !== RESPONSE_TOPIC) return;
      const { responses = [] } = JSON.parse(payload.toString()) as { responses?: DynsecResponse[] };
      for (const response of responses) {
        const resolve = response.correlationData ? this.pending.get(response.correlationData) : undefined;
        if (resolve) {
          this.pending.delete(response.correlationData!);
          resolve(response);
        }
      }
    });
  }

  static async connect(config: MqttConfig): Promise<BrokerAdmin> {
    const client = mqtt.connect(config.url, {
      username: config.username,
      password: config.password,
      clientId: `admin-${process.pid}-${Date.now()}`,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', (error) =>
        reject(new Error(`cannot connect to the broker as '${config.username}': ${error.message}`)),
      );
    });
    await client.subscribeAsync(RESPONSE_TOPIC, { qos: 1 });
    return new BrokerAdmin(client);
  }

  /** Runs one command; resolves with the broker's response (check `.error`). */
  async run(command: DynsecCommand, timeoutMs = 10_000): Promise<DynsecResponse> {
    const correlationData = `${process.pid}-${++this.sequence}`;
    const response = new Promise<DynsecResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationData);
        reject(new Error(`broker did not answer ${command.command} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(correlationData, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
    await this.client.publishAsync(CONTROL_TOPIC, JSON.stringify({ commands: [{ ...command, correlationData }] }), {
      qos: 1,
    });
    return response;
  }

  /** Runs many commands in one message (the plugin saves its configuration once per message). */
  async runMany(commands: DynsecCommand[], timeoutMs = 60_000): Promise<DynsecResponse[]> {
    const tagged = commands.map((command) => ({ ...command, correlationData: `${process.pid}-${++this.sequence}` }));
    const responses = tagged.map(
      ({ correlationData, command }) =>
        new Promise<DynsecResponse>((resolve, reject) => {
          const timer = setTimeout(() => {
            this.pending.delete(correlationData);
            reject(new Error(`broker did not answer ${command} within ${timeoutMs} ms`));
          }, timeoutMs);
          this.pending.set(correlationData, (r) => {
            clearTimeout(timer);
            resolve(r);
          });
        }),
    );
    await this.client.publishAsync(CONTROL_TOPIC, JSON.stringify({ commands: tagged }), { qos: 1 });
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

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
