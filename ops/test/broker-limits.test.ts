// The payload limit is stated once (lib/telemetry/contract.ts); the broker's limits that setup writes
// and ingest's setting follow it, so a device over it is recorded by ingest, not cut off unseen, and
// the broker's memory is bounded per session and per packet.
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { BROKER_MAX_PACKET_BYTES, MAX_PAYLOAD_BYTES } from '../../lib/telemetry/contract';
import { BROKER_FAIR_SHARE, DEVICE_FAIR_SHARE } from '../../lib/telemetry/fair-share';
import { readIngestConfig } from '../../ingest';

const MiB = 1_048_576;
/** What one subscriber session may hold on the broker (queue plus in-flight window). */
const SESSION_MAX_BYTES = 288 * MiB;

/** Every `name value` line of a Mosquitto configuration, as numbers where they are. */
function limits(conf: string): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const m of conf.matchAll(/^(max_\w+|memory_limit) (\d+)$/gm)) out[m[1]!] = [...(out[m[1]!] ?? []), Number(m[2])];
  return out;
}

/** What the limits must satisfy together (ops/setup.sh says why for each). */
function expectConsistent(l: Record<string, number[]>) {
  expect(l.max_packet_size).toEqual([BROKER_MAX_PACKET_BYTES]);
  expect(BROKER_MAX_PACKET_BYTES).toBeGreaterThan(MAX_PAYLOAD_BYTES + 65_536); // room for topic and properties
  const [queued = 0] = l.max_queued_bytes ?? [];
  const [inflight = 0] = l.max_inflight_bytes ?? [];
  expect(l.max_queued_messages).toEqual([0]); // a count limit drops QoS 1 messages silently; bytes guard memory
  // A subscriber can always take a packet at the limit, and its queue holds a fleet's flush of them.
  expect(inflight).toBeGreaterThanOrEqual(BROKER_MAX_PACKET_BYTES);
  expect(queued).toBeGreaterThanOrEqual(64 * BROKER_MAX_PACKET_BYTES);
  // A device's burst of bytes fits the queue many times over: one device cannot fill it alone.
  expect(queued).toBeGreaterThanOrEqual(16 * DEVICE_FAIR_SHARE.byteBurst);
  // A subscriber session holds at most its queue and window: 288 MiB.
  expect(queued + inflight).toBeLessThanOrEqual(SESSION_MAX_BYTES);
  // No memory_limit: Mosquitto's heap accounting miscounts and then refuses every connection (setup.sh).
  expect(l.memory_limit).toBeUndefined();
}

/** The fair-share plugin's options in a Mosquitto configuration (ops/broker/fair-share-plugin.c), and that it is loaded. */
function brokerShare(conf: string) {
  expect(conf).toMatch(/^plugin \S*(fair_share\.so|FAIR_SHARE_PLUGIN)$/m);
  const opt = (name: string) => Number(new RegExp(`^plugin_opt_${name} (\\d+)$`, 'm').exec(conf)?.[1]);
  return {
    messagesPerSecond: opt('messages_per_second'),
    messageBurst: opt('message_burst'),
    bytesPerSecond: opt('bytes_per_second'),
    byteBurst: opt('byte_burst'),
  };
}

describe('one payload limit from broker to ingest, and bounded broker memory', () => {
  it("setup's limits follow the contract's payload limit, and ingest's default is that limit", () => {
    expectConsistent(limits(readFileSync('ops/setup.sh', 'utf8')));
    expect(brokerShare(readFileSync('ops/setup.sh', 'utf8'))).toEqual(BROKER_FAIR_SHARE);
    // A packet at the limit always fits a device's byte burst at the broker (or it could never pass).
    expect(BROKER_FAIR_SHARE.byteBurst).toBeGreaterThanOrEqual(BROKER_MAX_PACKET_BYTES);
    expect(readIngestConfig(process.env).maxPayloadBytes).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
  });

  it('the broker the tests run against was started with those limits', () => {
    const conf = '.data/test/mosquitto/mosquitto.conf';
    expect(existsSync(conf), `${conf} (written by setup)`).toBe(true);
    const running = limits(readFileSync(conf, 'utf8'));
    expectConsistent(running);
    expect(running).toEqual(limits(readFileSync('ops/setup.sh', 'utf8')));
    expect(brokerShare(readFileSync(conf, 'utf8'))).toEqual(BROKER_FAIR_SHARE);
  });
});

describe("the broker's plain-text listener", () => {
  /** Every `listener PORT ADDRESS` line. */
  const listeners = (conf: string) => [...conf.matchAll(/^listener (\S+)(?: (\S+))?$/gm)].map((m) => [m[1], m[2]]);

  it('is on loopback only in every profile, production included; gateways get TLS', async () => {
    // setup.sh writes one configuration for every profile: the plain listener bound to 127.0.0.1,
    // literally (no setting can move it), the TLS one where MQTT_TLS_BIND says (docs/production.md).
    expect(listeners(readFileSync('ops/setup.sh', 'utf8'))).toEqual([
      ['$MQTT_PORT', '127.0.0.1'],
      ['$MQTT_TLS_PORT', expect.stringMatching(/^\$\{MQTT_TLS_BIND:-127\.0\.0\.1\}$/)],
    ]);
    const plainPort = new URL(process.env.MQTT_URL!).port;
    expect(listeners(readFileSync('.data/test/mosquitto/mosquitto.conf', 'utf8'))[0]).toEqual([plainPort, '127.0.0.1']);
    // And the running broker: a plain connection to this machine's other addresses is refused.
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && a.family === 'IPv4' && !a.internal)
      .map((a) => a!.address);
    for (const address of others) {
      const socket = connect(Number(plainPort), address);
      const outcome = await new Promise<string>((resolve) => {
        socket.once('connect', () => resolve('connected'));
        socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
        socket.setTimeout(3000, () => resolve('timeout'));
      });
      socket.destroy();
      expect(outcome, address).toBe('ECONNREFUSED');
    }
  });
});
