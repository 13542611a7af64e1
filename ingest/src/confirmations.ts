// End-to-end confirmations: a publisher that asks (a gateway: MQTT 5 response topic = its serial's
// stored topic, correlation data = the message's id) is told, once ingest has journaled the message
// (ingest's own acknowledgement point), that it may forget it. The broker's PUBACK cannot say that:
// Mosquitto acknowledges before it persists, and a crash loses what it held. Ids are gathered per
// serial and published together every 200 ms (one message per serial, not per message), QoS 1, on lib/telemetry/contract.ts's
// storedTopic(serial), which only that serial's gateway may read. A lost confirmation costs a resend,
// which ingest stores once (a duplicate), so nothing here needs to survive a restart.
import type { IPublishPacket, MqttClient } from 'mqtt';
import { CORRELATION_ID_PATTERN, parseTopic, type StoredConfirmation, storedTopic } from '../../lib/telemetry/contract';

export interface ConfirmationRequest {
  serial: string;
  id: string;
}

/**
 * The confirmation a telemetry message asks for, or null. Only its own serial's stored topic is
 * honoured (ingest publishes nowhere a device chooses), and only a short printable id.
 */
export function confirmationRequest(packet: IPublishPacket): ConfirmationRequest | null {
  const responseTopic = packet.properties?.responseTopic;
  const data = packet.properties?.correlationData;
  if (responseTopic === undefined || data === undefined) return null;
  const topic = parseTopic(packet.topic);
  if (!topic.ok || topic.kind !== 'telemetry' || responseTopic !== storedTopic(topic.serial)) return null;
  const id = Buffer.from(data).toString('latin1');
  return CORRELATION_ID_PATTERN.test(id) ? { serial: topic.serial, id } : null;
}

export class StoredConfirmations {
  private pending = new Map<string, string[]>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly client: MqttClient,
    private readonly onConfirmed: (messages: number) => void,
    intervalMs = 200,
  ) {
    this.timer = setInterval(() => this.flush(), intervalMs);
    this.timer.unref();
  }

  /** The message was journaled: confirm it with the next batch. */
  note({ serial, id }: ConfirmationRequest): void {
    const ids = this.pending.get(serial);
    if (ids) ids.push(id);
    else this.pending.set(serial, [id]);
  }

  private flush(): void {
    if (this.pending.size === 0 || !this.client.connected) return;
    const pending = this.pending;
    this.pending = new Map();
    for (const [serial, stored] of pending) {
      const payload: StoredConfirmation = { stored };
      this.client.publish(storedTopic(serial), JSON.stringify(payload), { qos: 1 }, () => undefined);
      this.onConfirmed(stored.length);
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
