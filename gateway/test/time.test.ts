// A gateway whose clock says 1970 (no RTC, NTP blocked) publishes no reading with that time: what
// it reads before it can reach the platform's HTTPS time is held in the outbox, then published
// stamped with the true time of each read; a reading an earlier boot kept untimed is dropped and
// counted, never published with a guessed time. Real broker over TLS, a real HTTPS server, the
// Modbus simulator.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMqttConfig } from '../../lib/config';
import { BrokerAdmin } from '../../lib/mqtt/broker-admin';
import { gatewayUsername, provisionGateway, removeGateway } from '../../lib/mqtt/gateway-accounts';
import { ModbusFleet, parseScenario, planFleet } from '../../simulators/index';
import { env, waitFor, watchTopics } from '../../testing/services';
import { Gateway } from '../src/gateway';
import { Outbox } from '../src/outbox';
import { freePort } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'gateway-time-'));
const id = `time${process.pid}`;
const serial = `GWT${process.pid}`;
const tls = dirname(env.MQTT_TLS_CA_FILE!);
let password: string;
let fleet: ModbusFleet;
let modbusPort: number;
let timePort: number;
let platform: Server | null = null;

beforeAll(async () => {
  const admin = await BrokerAdmin.connect(readMqttConfig(env, 'ADMIN'));
  password = (await provisionGateway(admin, id, [serial], { rekey: true }))!;
  await admin.close();
  modbusPort = await freePort();
  timePort = await freePort();
  const planned = planFleet(
    parseScenario(
      JSON.stringify({
        inverters: [{ serial, province: 'Yazd', dcKwp: 5, ratedAcW: 5000, initialCounterWh: 1_000_000 }],
      }),
    ),
  );
  const noon = Date.UTC(2026, 5, 21, 8);
  fleet = new ModbusFleet(planned, {
    seed: 3,
    intervalSeconds: 10,
    profiles: ['int'],
    bases: [40000],
    tcp: { host: '127.0.0.1', port: modbusPort },
    fromMs: noon,
  });
  fleet.advanceTo(noon);
  await fleet.start();
}, 60_000);

afterAll(async () => {
  platform?.close();
  await fleet?.stop();
  const admin = await BrokerAdmin.connect(readMqttConfig(env, 'ADMIN'));
  await removeGateway(admin, id);
  await admin.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('time the gateway can trust', () => {
  it('a box booting in 1970 holds its readings until the platform tells the time, then stamps them right', async () => {
    const outboxDir = join(dir, 'outbox');
    // What an earlier boot left: a reading kept before that boot ever learned the time.
    const earlier = Outbox.open({ dir: outboxDir, maxBytes: 8 << 20, segmentBytes: 1 << 20 });
    earlier.append([
      {
        serial,
        reading: { ts: 86_400_000, energy_wh_total: 1, ac_power_w: 0, state: 'SLEEPING' },
        untimed: { boot: 'an-earlier-boot', monoMs: 12_345 },
      },
    ]);
    earlier.close();

    const bootedAt = performance.now();
    const watcher = await watchTopics(`solar/v1/${serial}/telemetry`);
    const gateway = new Gateway(
      {
        gatewayId: id,
        broker: { url: env.MQTT_TLS_URL!, caFile: env.MQTT_TLS_CA_FILE!, username: gatewayUsername(id), password },
        time: { source: 'https', url: `https://127.0.0.1:${timePort}/healthz` },
        pollSeconds: 10,
        outbox: { dir: outboxDir, maxBytes: 8 << 20 },
        links: [
          { kind: 'tcp', host: '127.0.0.1', port: modbusPort, inverters: [{ serial, unitId: 1, ratedAcW: 5000 }] },
        ],
      },
      {
        log: () => undefined,
        publisher: { serials: [] }, // no ingest here to confirm: the broker's PUBACK is the end
        // The box's own clock: 1970 plus its uptime. Not vouched for.
        clock: { wallMs: () => performance.now() - bootedAt, monoMs: () => performance.now(), trusted: false },
      },
    );
    gateway.publisher.start();
    try {
      const readAt: number[] = [];
      for (let i = 0; i < 3; i++) {
        readAt.push(Date.now());
        expect((await gateway.pollOnce()).readings).toBe(1);
        await new Promise((r) => setTimeout(r, 300));
      }
      expect(await gateway.time.sync()).toBe(false); // the platform is not reachable yet
      expect(gateway.time.lastProblem).toMatch(/ECONNREFUSED/);
      await waitFor('connected', async () => gateway.publisher.connected, Boolean, 20_000);
      gateway.publisher.wake();
      await new Promise((r) => setTimeout(r, 500));
      expect(gateway.publisher.waitingForTime).toBe(true);
      expect(watcher.messages).toEqual([]); // nothing published with 1970 on it

      // The platform comes up: its HTTPS Date (verified against the broker's CA) is the time.
      platform = createServer(
        { cert: readFileSync(join(tls, 'server.crt')), key: readFileSync(join(tls, 'server.key')) },
        (_req, res) => res.end(),
      );
      await new Promise<void>((resolve) => platform!.listen(timePort, '127.0.0.1', resolve));
      expect(await gateway.time.sync()).toBe(true);
      readAt.push(Date.now());
      await gateway.pollOnce();
      gateway.publisher.wake();
      await waitFor(
        'the readings published',
        async () => watcher.messages.length,
        (n) => n >= 1,
        20_000,
      );
      expect(await gateway.publisher.drained(20_000)).toBe(true);

      const published = watcher.messages.flatMap((m) => JSON.parse(m.payload) as { ts: number }[]);
      expect(published.map((r) => r.ts)).toHaveLength(4);
      published.forEach((r, i) => {
        // Within the Date header's second and the round trip: never 1970, never minutes off.
        expect(Math.abs(r.ts - readAt[i]!), `reading ${i}`).toBeLessThan(1500);
      });
      expect(gateway.publisher.counts.untimedDropped).toBe(1);
    } finally {
      await gateway.stop();
      await watcher.close();
    }
  }, 60_000);
});
