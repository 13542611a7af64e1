// The gateway trusts only the broker its CA signed: a wrong CA or an expired certificate is refused
// (nothing is published, the readings stay in the outbox); the right CA delivers them. Reconnects
// back off exponentially with full jitter, over a window sized to the fleet (a drill cuts 30 at once).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMqttConfig } from '../../lib/config';
import { BrokerAdmin } from '../../lib/mqtt/broker-admin';
import { gatewayUsername, provisionGateway, removeGateway } from '../../lib/mqtt/gateway-accounts';
import { env, waitFor } from '../../testing/services';
import { peakPerSecond, reconnectWindowMs } from '../src/fleet';
import { Outbox } from '../src/outbox';
import { Publisher, type PublisherOptions } from '../src/publisher';
import { freePort, Link } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'gateway-tls-'));
const id = `tls${process.pid}`;
const serial = `TLS${process.pid}`;
let password: string;

const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
/** Another CA, and a server certificate it signed that expired at birth (-days 0). */
function otherCaAndExpiredCertificate(): void {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=other CA',
    '-keyout',
    'other-ca.key',
    '-out',
    'other-ca.crt',
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    'expired.key',
    '-out',
    'expired.csr',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    'expired.csr',
    '-CA',
    'other-ca.crt',
    '-CAkey',
    'other-ca.key',
    '-CAcreateserial',
    '-days',
    '0',
    '-out',
    'expired.crt',
  );
}

beforeAll(async () => {
  otherCaAndExpiredCertificate();
  const admin = await BrokerAdmin.connect(readMqttConfig(env, 'ADMIN'));
  password = (await provisionGateway(admin, id, [serial], { rekey: true }))!;
  await admin.close();
});
afterAll(async () => {
  const admin = await BrokerAdmin.connect(readMqttConfig(env, 'ADMIN'));
  await removeGateway(admin, id);
  await admin.close();
  rmSync(dir, { recursive: true, force: true });
});

function withOutbox(name: string): Outbox {
  const outbox = Outbox.open({ dir: join(dir, name), maxBytes: 1 << 20, segmentBytes: 65536 });
  outbox.append([{ serial, reading: { ts: Date.now(), energy_wh_total: 1000, ac_power_w: 0, state: 'SLEEPING' } }]);
  return outbox;
}
const options = (url: string, ca: Buffer): PublisherOptions => ({
  broker: { url, ca, username: gatewayUsername(id), password, clientId: `gateway-${id}` },
  backoff: { initialMs: 100, maxMs: 400 },
});

describe('the gateway and the broker certificate', () => {
  it('refuses a broker whose certificate another CA signed', async () => {
    const outbox = withOutbox('wrong-ca');
    const publisher = new Publisher(outbox, options(env.MQTT_TLS_URL!, readFileSync(join(dir, 'other-ca.crt'))));
    publisher.start();
    await waitFor(
      'a refusal',
      async () => publisher.counts.connectFailures,
      (n) => n >= 2,
      20_000,
      50,
    );
    expect(publisher.lastError).toMatch(/self.signed certificate in certificate chain|unable to (get|verify)/i);
    expect(publisher.counts.connects).toBe(0);
    expect(outbox.stats().pendingReadings).toBe(1);
    await publisher.stop();
    outbox.close();
  });

  it('refuses an expired certificate, even from the CA it trusts', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // -days 0: expired one second after it was made
    const server = createServer({
      key: readFileSync(join(dir, 'expired.key')),
      cert: readFileSync(join(dir, 'expired.crt')),
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    server.on('tlsClientError', () => undefined);
    const { port } = server.address() as { port: number };
    const outbox = withOutbox('expired');
    const publisher = new Publisher(
      outbox,
      options(`mqtts://127.0.0.1:${port}`, readFileSync(join(dir, 'other-ca.crt'))),
    );
    publisher.start();
    await waitFor(
      'a refusal',
      async () => publisher.counts.connectFailures,
      (n) => n >= 1,
      20_000,
      50,
    );
    expect(publisher.lastError).toMatch(/certificate has expired/);
    expect(publisher.counts.connects).toBe(0);
    await publisher.stop();
    outbox.close();
    server.close();
  });

  it('with the right CA: connects, publishes and empties the outbox only after PUBACK', async () => {
    const outbox = withOutbox('right');
    const publisher = new Publisher(outbox, options(env.MQTT_TLS_URL!, readFileSync(env.MQTT_TLS_CA_FILE!)));
    publisher.start();
    expect(await publisher.drained(20_000)).toBe(true);
    expect(publisher.counts).toMatchObject({ published: 1, messages: 1, connects: 1 });
    await publisher.stop();
    outbox.close();
  });

  it("paces a backlog to the gateway's share of the fleet's catch-up", async () => {
    const outbox = Outbox.open({ dir: join(dir, 'paced'), maxBytes: 1 << 20, segmentBytes: 65536 });
    const t0 = Date.now() - 3_600_000;
    outbox.append(
      Array.from({ length: 40 }, (_, k) => ({
        serial,
        reading: { ts: t0 + k * 1000, energy_wh_total: 2000 + k, ac_power_w: 0, state: 'SLEEPING' as const },
      })),
    );
    const publisher = new Publisher(outbox, {
      ...options(env.MQTT_TLS_URL!, readFileSync(env.MQTT_TLS_CA_FILE!)),
      batchReadings: 10,
      catchUp: { readingsPerSecond: 20, burstReadings: 10 },
    });
    publisher.start();
    await waitFor('connected', async () => publisher.connected, Boolean, 20_000, 20);
    const connectedAt = Date.now();
    expect(await publisher.drained(20_000)).toBe(true);
    // The first 10 at once, then 10 each time the bucket has refilled (0.5 s at 20/s): about 1 s (unpaced: ~0).
    expect(Date.now() - connectedAt).toBeGreaterThanOrEqual(900);
    expect(publisher.counts).toMatchObject({ published: 40, messages: 4 });
    await publisher.stop();
    outbox.close();
  });

  it('a fleet cut off at once comes back spread over its window, then empties its outboxes', async () => {
    // 30 gateways whose broker connections all drop in the same instant (a broker restart, seen
    // from the fleet); each draws its jitter evenly, so the schedule is exact and the test stable.
    const FLEET = { gateways: 30, connectsPerSecond: 10, readingsPerSecond: 300 };
    const link = new Link(await freePort(), Number(new URL(env.MQTT_TLS_URL!).port));
    await link.start();
    const base = options(`mqtts://127.0.0.1:${link.port}`, readFileSync(env.MQTT_TLS_CA_FILE!));
    const fleet = Array.from({ length: FLEET.gateways }, (_, i) => {
      const outbox = withOutbox(`fleet-${i}`);
      const publisher = new Publisher(outbox, {
        ...base,
        broker: { ...base.broker, clientId: `gateway-${id}-${i}` },
        backoff: { initialMs: 100, maxMs: 300_000, windowMs: reconnectWindowMs(FLEET) },
        random: () => (i + 0.5) / FLEET.gateways,
      });
      publisher.start();
      return { outbox, publisher };
    });
    try {
      for (const g of fleet) expect(await g.publisher.drained(60_000)).toBe(true);
      const cutAt = Date.now();
      link.cut();
      link.restore();
      for (const g of fleet)
        g.outbox.append([
          { serial, reading: { ts: Date.now(), energy_wh_total: 1001, ac_power_w: 0, state: 'SLEEPING' } },
        ]);
      await waitFor(
        'every gateway back',
        async () => fleet.filter((g) => g.publisher.counts.connects >= 2).length,
        (n) => n === FLEET.gateways,
        60_000,
        50,
      );
      for (const g of fleet) expect(await g.publisher.drained(30_000)).toBe(true);
      const after = link.arrivals.filter((t) => t >= cutAt).map((t) => t - cutAt);
      expect(after).toHaveLength(FLEET.gateways); // one attempt each: none timed out or was refused
      // Over the 3 s window at 10/s (without it, all 30 came within 100 ms: the herd).
      expect(Math.max(...after) - Math.min(...after)).toBeGreaterThan(2000);
      expect(peakPerSecond(after)).toBeLessThanOrEqual(12);
      expect(fleet.reduce((n, g) => n + g.publisher.counts.published, 0)).toBe(2 * FLEET.gateways);
    } finally {
      for (const g of fleet) {
        await g.publisher.stop();
        g.outbox.close();
      }
      link.close();
    }
  });
});
