// A TCP proxy between one MQTT client and the broker that can play the broker that lost a
// subscription: Mosquitto 2.0.11 answered a restart's reconnect with `sessionPresent: true` and
// then routed nothing to ingest's `$share/...` subscription it had not restored. While deaf, the
// proxy acknowledges (PUBACK) and drops every application PUBLISH the broker sends the client, so
// the connection stays up and `$SYS` keeps flowing; the client's next SUBSCRIBE restores routing,
// as a real broker would. What it dropped is counted per topic: the readings that fault loses.
// It can also play a broker whose answers stop coming (stalled: a client's SUBACKs and PINGRESPs
// queued behind a backlog) and cut the client's connection, as a lost link or a keepalive does.
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface MqttProxy {
  /** mqtt://127.0.0.1:PORT to give the client instead of the broker's URL. */
  url: string;
  /**
   * From now on the broker's application messages to the client are dropped, until the client's next
   * SUBSCRIBE, or, with `subscribeHeals` false, until `healOnSubscribe()` and a SUBSCRIBE after it.
   */
  deafen(subscribeHeals?: boolean): void;
  healOnSubscribe(): void;
  /** From now on nothing the broker sends reaches the client but a CONNACK: the client connects, the rest never comes. */
  stall(): void;
  /** Closes the connections open now (the proxy keeps listening, so the client can connect again). */
  cut(): void;
  readonly deaf: boolean;
  /** Application messages dropped while deaf, by topic. */
  readonly dropped: Map<string, number>;
  close(): Promise<void>;
}

/** Splits a byte stream into whole MQTT control packets. */
function framer(onPacket: (packet: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    for (;;) {
      let length = 0;
      let i = 1;
      for (let shift = 0; ; shift += 7, i++) {
        if (i >= pending.length) return; // the length is not all here yet
        length += (pending[i]! & 0x7f) << shift;
        if ((pending[i]! & 0x80) === 0) break;
      }
      const total = i + 1 + length;
      if (pending.length < total) return;
      onPacket(pending.subarray(0, total));
      pending = pending.subarray(total);
    }
  };
}

const CONNACK = 2;
const PUBLISH = 3;
const SUBSCRIBE = 8;

export async function mqttProxy(brokerUrl: string): Promise<MqttProxy> {
  const broker = new URL(brokerUrl);
  let deaf = false;
  let subscribeHeals = true;
  let stalled = false;
  const dropped = new Map<string, number>();
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = tcpConnect(Number(broker.port || 1883), broker.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on(
      'data',
      framer((packet) => {
        if (packet[0]! >> 4 === SUBSCRIBE && subscribeHeals) deaf = false;
        upstream.write(packet);
      }),
    );
    upstream.on(
      'data',
      framer((packet) => {
        if (stalled && packet[0]! >> 4 !== CONNACK) return;
        if (deaf && packet[0]! >> 4 === PUBLISH) {
          // Skip the fixed header's length bytes, then: topic length, topic, packet id (QoS > 0).
          let at = 1;
          while (packet[at]! & 0x80) at++;
          at++;
          const topicLength = packet.readUInt16BE(at);
          const topic = packet.subarray(at + 2, at + 2 + topicLength).toString();
          if (!topic.startsWith('$')) {
            dropped.set(topic, (dropped.get(topic) ?? 0) + 1);
            const qos = (packet[0]! >> 1) & 0x03;
            if (qos === 1)
              upstream.write(Buffer.from([0x40, 0x02, packet[at + 2 + topicLength]!, packet[at + 3 + topicLength]!]));
            return;
          }
        }
        client.write(packet);
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    deafen(heals = true) {
      deaf = true;
      subscribeHeals = heals;
    },
    healOnSubscribe() {
      subscribeHeals = true;
    },
    stall() {
      stalled = true;
    },
    cut() {
      for (const s of sockets) s.destroy();
    },
    get deaf() {
      return deaf;
    },
    dropped,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
