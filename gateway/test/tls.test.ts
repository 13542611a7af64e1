// The gateway trusts only the broker its CA signed: a wrong CA or an expired certificate is refused
// (nothing is published, the readings stay in the outbox); the right CA delivers them. Reconnects
// back off exponentially with full jitter.
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
import { Outbox } from '../src/outbox';
import { backoffDelay, Publisher, type PublisherOptions } from '../src/publisher';

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

  it('backs off exponentially with full jitter, capped', () => {
    expect([0, 1, 2, 3, 10].map((a) => backoffDelay(a, 1000, 60_000, () => 0.999))).toEqual([
      999, 1998, 3996, 7992, 59940,
    ]);
    expect(backoffDelay(5, 1000, 60_000, () => 0)).toBe(0);
    const spread = Array.from({ length: 2000 }, () => backoffDelay(6, 1000, 60_000));
    expect(Math.min(...spread)).toBeLessThan(3000);
    expect(Math.max(...spread)).toBeGreaterThan(50_000);
    expect(Math.max(...spread)).toBeLessThan(60_000);
  });
});
