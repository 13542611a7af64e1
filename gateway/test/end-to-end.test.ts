// A month of real-looking inverters through the whole chain: simulated inverters (four on Modbus
// TCP: SunSpec models 103, 113 and 701 alone, and a Huawei SUN2000 read through its vendor register
// map; one SunSpec inverter on Modbus RTU over a socat pty pair) → the gateway
// (Modbus, outbox, MQTT over TLS with its own account) → the broker → ingest → InfluxDB → billing.
// Time is fast-forwarded: the gateway polls every simulated hour on a virtual clock. Billed energy
// equals the simulator's ground truth to the counter's resolution (1 Wh; the Huawei's 10 Wh).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BillingDeps, readBillingConfig, runMonth } from '../../billing/index';
import { monthBounds, monthDays } from '../../lib/program/solar-hijri';
import { createLogger } from '../../lib/logger';
import { ModbusFleet } from '../../simulators/index';
import { countPoints, env, waitFor } from '../../testing/services';
import { Gateway } from '../src/gateway';
import { freePort, type PlatformBed, platformBed, ptyPair } from './helpers';

const NAME = 'gateway_e2e';
const MONTH = '1405-08'; // Aban 1405
const { startMs, endMs } = monthBounds(MONTH);
const H = 3_600_000;
const DAY = 24 * H;
const dir = mkdtempSync(join(tmpdir(), 'gateway-e2e-'));
const SERIALS = ['GWE-INT', 'GWE-FLOAT', 'GWE-701', 'GWE-HUAWEI', 'GWE-RTU'];
/** What each inverter's counter can show: whole Wh on SunSpec, 0.01 kWh on the Huawei. */
const RESOLUTION_WH = [1, 1, 1, 10, 1];

let bed: PlatformBed;
let pool: pg.Pool;
let fleet: ModbusFleet;
let socat: ChildProcess;
let gateway: Gateway;
let now = startMs - DAY;
const log: string[] = [];

beforeAll(async () => {
  bed = await platformBed({
    name: NAME,
    gatewayId: `e2e${process.pid}`,
    dir,
    seed: 25,
    contracts: true,
    inverters: SERIALS.map((serial, i) => ({
      serial,
      province: ['Yazd', 'Kerman', 'Fars', 'Khuzestan', 'Isfahan'][i]!,
      initialCounterWh: 1_000_000 * (i + 1),
    })),
  });
  pool = new pg.Pool({ connectionString: bed.databaseUrl, max: 2 });

  const pty = await ptyPair(dir);
  socat = pty.socat;
  const port = await freePort();
  fleet = new ModbusFleet(bed.planned, {
    seed: 25,
    intervalSeconds: 300,
    profiles: ['int', 'float', 'der', 'huawei-sun2000', 'int'],
    bases: [40000, 50000, 0, 40000, 40000],
    tcp: { host: '127.0.0.1', port },
    rtu: { path: pty.a, unitId: 7, baudRate: 115200 },
    fromMs: now,
  });
  fleet.advanceTo(now);
  await fleet.start();
  gateway = new Gateway(
    {
      gatewayId: `e2e${process.pid}`,
      broker: { url: env.MQTT_TLS_URL!, caFile: env.MQTT_TLS_CA_FILE!, username: bed.username, password: bed.password },
      pollSeconds: 3600,
      outbox: { dir: join(dir, 'outbox'), maxBytes: 8 << 20 },
      // A month polled in two minutes: at a 2,000-gateway fleet's catch-up share it would take an hour to send.
      fleet: { gateways: 1 },
      links: [
        {
          kind: 'tcp',
          host: '127.0.0.1',
          port,
          inverters: [
            { serial: 'GWE-INT', unitId: 1, ratedAcW: 5000 },
            { serial: 'GWE-FLOAT', unitId: 2, ratedAcW: 5000 },
            { serial: 'GWE-701', unitId: 3, ratedAcW: 5000 },
            { serial: 'GWE-HUAWEI', unitId: 4, ratedAcW: 5000, map: 'huawei-sun2000' },
          ],
        },
        { kind: 'rtu', path: pty.b, baudRate: 115200, inverters: [{ serial: 'GWE-RTU', unitId: 7 }] },
      ],
    },
    { log: (level, message) => log.push(`${level} ${message}`), clock: { wallMs: () => now, monoMs: () => now } },
  );
  gateway.publisher.start();
}, 120_000);

afterAll(async () => {
  await gateway?.stop();
  await fleet?.stop();
  socat?.kill();
  await bed?.close();
  await pool?.end();
  rmSync(dir, { recursive: true, force: true });
});

describe('simulated SunSpec and Huawei inverters → gateway → MQTT/TLS → ingest → InfluxDB → billing', () => {
  it('bills a fast-forwarded month exactly as the simulator produced it, to the Wh', async () => {
    // Every simulated hour from a day before the month to a day after: the simulator steps its
    // physics every 5 minutes, the gateway reads the registers on the hour.
    for (; now <= endMs + DAY; now += H) {
      for (let t = Math.max(startMs - DAY, now - H + 300_000); t <= now; t += 300_000) fleet.advanceTo(t);
      const { errors } = await gateway.pollOnce();
      expect(errors).toEqual([]);
    }
    const readings = gateway.counts.readings;
    expect(readings).toBe(SERIALS.length * (32 * 24 + 1) - gateway.counts.registerErrors);
    expect(await gateway.publisher.drained(120_000)).toBe(true);
    await waitFor(
      'every reading stored',
      () => countPoints(bed.influx, 'telemetry'),
      (n) => n === readings,
      120_000,
      500,
    );

    const deps: BillingDeps = {
      pool,
      influx: bed.influx,
      log: createLogger('gateway-e2e', 'silent'),
      config: { ...readBillingConfig(env), lookaroundDays: 400 },
    };
    await runMonth(deps, MONTH, { actor: 'gateway-e2e' });
    const bills = (
      await pool.query<{ code: string; energy_wh: string; incomplete: boolean }>(
        `SELECT i.code, b.energy_wh, b.incomplete FROM installation_bills b JOIN installations i ON i.id = b.installation_id
         WHERE b.month = $1 ORDER BY i.code`,
        [MONTH],
      )
    ).rows;
    const truth = fleet.model.truth.snapshot().inverters;
    const monthDates = new Set(monthDays(MONTH).map((d) => d.date));
    expect(bills.map((b) => b.code).sort()).toEqual(SERIALS.map((s) => `SIM-${s}`).sort());
    for (const [i, serial] of SERIALS.entries()) {
      const truthWh = Object.entries(truth[serial]!.days)
        .filter(([day]) => monthDates.has(day))
        .reduce((sum, [, wh]) => sum + wh, 0);
      const bill = bills.find((b) => b.code === `SIM-${serial}`)!;
      // The inverter's counter shows whole Wh, 10 Wh on the Huawei (never rounded up): billed = truth
      // within that resolution.
      expect(Math.abs(Number(bill.energy_wh) - truthWh), serial).toBeLessThan(RESOLUTION_WH[i]!);
      expect(Number(bill.energy_wh), serial).toBeGreaterThan(300_000); // an autumn month of 5 kWp
      expect(bill.incomplete, serial).toBe(false);
    }
  }, 600_000);
});
