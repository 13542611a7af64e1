// Ends an MQTT connection without hanging. mqtt.js's graceful end (`end(false)`) first waits until
// every packet the client sent is acknowledged (a SUBACK, a PUBACK), then sends DISCONNECT; it waits
// for mqtt.js's 'outgoingEmpty', which only an acknowledgement raises. If the connection drops
// meanwhile, mqtt.js drops its pending SUBSCRIBEs without raising it and, ending, does not connect
// again: the end never finishes (mqttjs/MQTT.js#952). Ingest's stop hung so for minutes, its SUBACKs
// behind a backlog on the broker when the connection dropped.
import type { MqttClient } from 'mqtt';

/**
 * Ends gracefully while the broker answers, for at most `graceMs`; then, or as soon as the
 * connection is gone, closes it. Resolves once the connection is closed.
 */
export function endClient(client: MqttClient, graceMs: number): Promise<void> {
  // Not connected: nothing can be acknowledged any more; a forced end stops reconnecting and finishes.
  if (!client.connected) return new Promise((resolve) => client.end(true, {}, () => resolve()));
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      client.removeListener('close', finish);
      resolve();
    };
    const timer = setTimeout(() => client.stream.destroy(), graceMs); // 'close' follows
    client.once('close', finish);
    client.end(false, {}, finish);
  });
}
