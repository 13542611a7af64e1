// One inverter's MQTT connection, as a datalogger behaves: its own credentials, QoS 1, a retained
// `online` status with `offline` as its last will, and a buffer of readings while it cannot publish,
// flushed as one array (in chunks, within the device's fair share) when it is back.
import mqtt, { type MqttClient } from 'mqtt';
import { statusTopic, telemetryTopic, type Reading } from '../../lib/telemetry/contract';
import { DevicePacer } from '../../lib/telemetry/fair-share';
import { endClient } from '../../lib/mqtt/end-client';

export interface DeviceCredentials {
  url: string;
  username: string;
  password: string;
}

const FLUSH_CHUNK = 500; // readings per message when flushing a buffer
/** How long a close waits for the broker to acknowledge the `offline` status and what is under way. */
const CLOSE_GRACE_MS = 2000;

export class DeviceConnection {
  private client: MqttClient | null = null;
  private buffer: Reading[] = [];
  private flushing = false;
  private offline = false;
  private readonly pacer = new DevicePacer();
  published = 0;

  constructor(
    readonly serial: string,
    private readonly credentials: DeviceCredentials,
  ) {}

  async connect(timeoutMs = 15_000): Promise<void> {
    const client = mqtt.connect(this.credentials.url, {
      username: this.credentials.username,
      password: this.credentials.password,
      clientId: `inv-${this.serial}`,
      clean: true,
      reconnectPeriod: 2000,
      connectTimeout: timeoutMs,
      keepalive: 60,
      will: { topic: statusTopic(this.serial), payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    this.client = client;
    client.on('connect', () => {
      void client.publishAsync(statusTopic(this.serial), 'online', { qos: 1, retain: true }).catch(() => undefined);
      void this.flush();
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.serial}: no connection to ${this.credentials.url} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      client.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      client.once('error', (error) => {
        clearTimeout(timer);
        client.end(true);
        reject(new Error(`${this.serial}: broker refused the connection: ${error.message}`));
      });
    });
  }

  get connected(): boolean {
    return !this.offline && (this.client?.connected ?? false);
  }

  /** Publishes now, or buffers if the device is offline or disconnected. */
  send(reading: Reading, options: { duplicate?: boolean } = {}): void {
    this.buffer.push(reading);
    if (options.duplicate) this.buffer.push(reading);
    void this.flush();
  }

  /** Publishes a raw payload on the telemetry topic (used by the malformed-messages fault). */
  sendRaw(payload: string): void {
    if (this.connected)
      void this.client!.publishAsync(telemetryTopic(this.serial), payload, { qos: 1 }).catch(() => undefined);
  }

  /** Drops the connection abruptly (the broker publishes the last will) and stays away. */
  goOffline(): void {
    if (this.offline) return;
    this.offline = true;
    this.client?.stream.destroy();
    this.client?.end(true);
  }

  async goOnline(): Promise<void> {
    if (!this.offline) return;
    this.offline = false;
    await this.connect();
  }

  get buffered(): number {
    return this.buffer.length;
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.buffer.length > 0 && this.connected) {
        // One reading alone is published as an object; a backlog as arrays, like a datalogger.
        const chunk = this.buffer.slice(0, FLUSH_CHUNK);
        const payload = chunk.length === 1 ? JSON.stringify(chunk[0]) : JSON.stringify(chunk);
        await this.pacer.take(this.serial, Buffer.byteLength(payload));
        if (!this.connected) break;
        try {
          await this.client!.publishAsync(telemetryTopic(this.serial), payload, { qos: 1 });
        } catch {
          break; // disconnected mid-publish: keep the chunk, retry on reconnect
        }
        this.buffer.splice(0, chunk.length);
        this.published += chunk.length;
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Waits until everything buffered is acknowledged by the broker (or the timeout). */
  async drained(timeoutMs = 30_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.buffer.length > 0 || this.flushing) {
      if (Date.now() > deadline) return false;
      if (this.connected) void this.flush();
      await new Promise((r) => setTimeout(r, 50));
    }
    return true;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (!client) return;
    // Not awaited: the graceful end waits for its PUBACK (within the grace), and a broker that does
    // not answer, or a lost connection that mqtt.js reconnects for ever, must not hold the fleet's stop.
    if (client.connected)
      client.publishAsync(statusTopic(this.serial), 'offline', { qos: 1, retain: true }).catch(() => undefined);
    await endClient(client, CLOSE_GRACE_MS);
  }
}
