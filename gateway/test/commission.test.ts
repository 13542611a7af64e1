// Commissioning at a site, against the real platform: the API listening on a port, PostgreSQL,
// the broker over TLS, ingest and InfluxDB, and the Modbus simulator standing in for the bus.
// An unregistered inverter on the bus stops it before anything is provisioned or written; a dry
// run writes nothing; a silent bus says what to check; the real run ends with a reading stored.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModbusFleet, parseScenario, planFleet } from '../../simulators/index';
import { STAFF_PASSWORD, staffToken, testApp } from '../../testing/api';
import { env } from '../../testing/services';
import { type CommissionOptions, commission } from '../src/commission';
import { freePort, type PlatformBed, platformBed } from './helpers';

const NAME = 'gateway_commission';
const dir = mkdtempSync(join(tmpdir(), 'gateway-commission-'));
const gatewayId = `com${process.pid}`;
const SERIALS = ['GWC-INT', 'GWC-701'];
let bed: PlatformBed;
let app: FastifyInstance;
let fleet: ModbusFleet;
let options: Omit<CommissionOptions, 'units'>;

beforeAll(async () => {
  bed = await platformBed({
    name: NAME,
    gatewayId,
    dir,
    seed: 4,
    inverters: SERIALS.map((serial) => ({ serial, province: 'Fars', initialCounterWh: 500_000 })),
  });
  app = await testApp({ DATABASE_URL: bed.databaseUrl, INFLUX_DATABASE: NAME });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const technician = `tech-${process.pid}`;
  await staffToken(app, technician, 'TECHNICIAN', bed.databaseUrl);
  // The bus: the two registered inverters (units 1, 2) and one nobody registered (unit 3).
  const port = await freePort();
  const onTheBus = planFleet(
    parseScenario(
      JSON.stringify({
        inverters: [...SERIALS, 'GWC-STRANGER'].map((serial) => ({
          serial,
          province: 'Fars',
          dcKwp: 5,
          ratedAcW: 5000,
          initialCounterWh: 500_000,
        })),
      }),
    ),
  );
  const noon = Date.UTC(2026, 5, 21, 8);
  fleet = new ModbusFleet(onTheBus, {
    seed: 4,
    intervalSeconds: 10,
    profiles: ['int', 'der', 'int'],
    bases: [40000],
    tcp: { host: '127.0.0.1', port },
    fromMs: noon,
  });
  fleet.advanceTo(noon);
  await fleet.start();
  const { port: apiPort } = app.server.address() as { port: number };
  options = {
    gatewayId,
    link: { kind: 'tcp', host: '127.0.0.1', port },
    api: { url: `http://127.0.0.1:${apiPort}`, username: technician, password: STAFF_PASSWORD },
    broker: { url: env.MQTT_TLS_URL!, caFile: env.MQTT_TLS_CA_FILE! },
    configPath: join(dir, 'gateway.json'),
    outboxDir: join(dir, 'outbox'),
    pollSeconds: 10,
    time: { source: 'system' },
    dryRun: false,
    scanTimeoutMs: 500,
    confirmTimeoutMs: 60_000,
  };
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
  await app?.close();
  await bed?.close();
  rmSync(dir, { recursive: true, force: true });
});

const summary = (steps: { name: string; ok: boolean }[]) => steps.map((s) => `${s.ok ? 'ok' : 'FAIL'} ${s.name}`);

describe('commissioning a gateway', () => {
  it('stops at an unregistered inverter, before anything is provisioned or written', async () => {
    const { ok, steps } = await commission({ ...options, units: [1, 2, 3] });
    expect(ok).toBe(false);
    expect(summary(steps)).toEqual(['ok scan', 'FAIL registry']);
    expect(steps[0]!.detail).toMatch(
      /3 inverter\(s\) .*unit 1 GWC-INT .*5000 W, SunSpec 103 at 40000.*unit 2 GWC-701 .*SunSpec 701/,
    );
    expect(steps[1]!.detail).toBe('GWC-STRANGER is not registered');
    expect(steps[1]!.fix).toMatch(/POST \/inverters/);
    expect(existsSync(options.configPath)).toBe(false);
  });

  it('says what to check when nothing answers on the bus', async () => {
    const { steps } = await commission({ ...options, units: [5, 6] });
    expect(summary(steps)).toEqual(['FAIL scan']);
    expect(steps[0]!.detail).toMatch(/no inverter answered on units 5-6 of tcp:\/\/127.0.0.1/);
    expect(steps[0]!.fix).toMatch(/Modbus is enabled/);
  });

  it('a dry run checks and writes nothing', async () => {
    const { ok, steps } = await commission({ ...options, units: [1, 2], dryRun: true });
    expect(ok).toBe(true);
    expect(summary(steps)).toEqual(['ok scan', 'ok registry', 'ok dry run']);
    expect(existsSync(options.configPath)).toBe(false);
  });

  it('provisions, writes the configuration (0600), publishes and finds the reading stored', async () => {
    const { ok, steps } = await commission({ ...options, units: [1, 2] });
    expect(summary(steps), JSON.stringify(steps, null, 2)).toEqual([
      'ok scan',
      'ok registry',
      'ok provision',
      'ok configuration',
      'ok test publish',
      'ok stored',
    ]);
    expect(ok).toBe(true);
    expect(statSync(options.configPath).mode & 0o777).toBe(0o600);
    const config = JSON.parse(readFileSync(options.configPath, 'utf8'));
    expect(config.links[0].inverters).toEqual([
      { serial: 'GWC-INT', unitId: 1, ratedAcW: 5000 },
      { serial: 'GWC-701', unitId: 2, ratedAcW: 5000 },
    ]);
    expect(config.broker.username).toBe(`gw:${gatewayId}`);
    // The checklist never prints the password.
    expect(JSON.stringify(steps)).not.toContain(config.broker.password);
  }, 120_000);
});
