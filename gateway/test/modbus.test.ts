// The gateway's Modbus side against the simulator's Modbus devices over real sockets: four
// inverters on Modbus TCP (SunSpec integer 103 at 40000, float 113 at 50000, 701 alone at 0, and a
// Huawei SUN2000 through its vendor register map) and one on Modbus RTU over a socat
// pseudo-terminal pair. What the gateway reads is the simulator's counter.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModbusFleet, parseScenario, planFleet } from '../../simulators/index';
import { resolveRegisterMap } from '../../lib/registers/maps/index';
import { InverterPoller } from '../src/inverter-poller';
import { ModbusLink } from '../src/modbus/connection';
import { freePort, ptyPair } from './helpers';

const FROM = Date.UTC(2026, 5, 21, 3, 0); // 06:30 in Tehran, the sun up
const STEP = 300_000;
const SERIALS = ['MB-INT', 'MB-FLOAT', 'MB-701', 'MB-HUAWEI', 'MB-RTU'];
/** The counter's resolution on each device: whole Wh on SunSpec, 0.01 kWh on the Huawei. */
const RESOLUTION_WH = [1, 1, 1, 10, 1];

describe('gateway ⇄ simulated SunSpec inverters over Modbus TCP and RTU', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-modbus-'));
  let fleet: ModbusFleet;
  let socat: ChildProcess;
  const links: ModbusLink[] = [];
  const pollers: InverterPoller[] = [];

  beforeAll(async () => {
    const pty = await ptyPair(dir);
    socat = pty.socat;
    const port = await freePort();
    const scenario = parseScenario(
      JSON.stringify({
        seed: 5,
        inverters: SERIALS.map((serial) => ({
          serial,
          province: 'Yazd',
          dcKwp: 5,
          ratedAcW: 5000,
          initialCounterWh: 1_000_000,
        })),
      }),
    );
    fleet = new ModbusFleet(planFleet(scenario), {
      seed: 5,
      intervalSeconds: 300,
      profiles: ['int', 'float', 'der', 'huawei-sun2000', 'int'],
      bases: [40000, 50000, 0, 40000, 40000],
      tcp: { host: '127.0.0.1', port },
      rtu: { path: pty.a, unitId: 3, baudRate: 19200 },
      fromMs: FROM,
    });
    fleet.advanceTo(FROM);
    await fleet.start();
    const tcp = new ModbusLink({ kind: 'tcp', host: '127.0.0.1', port });
    const rtu = new ModbusLink({ kind: 'rtu', path: pty.b, baudRate: 19200 });
    links.push(tcp, rtu);
    pollers.push(
      new InverterPoller({ serial: 'MB-INT', unitId: 1 }, tcp.unit(1)),
      new InverterPoller({ serial: 'MB-FLOAT', unitId: 2 }, tcp.unit(2)),
      new InverterPoller({ serial: 'MB-701', unitId: 3 }, tcp.unit(3)),
      new InverterPoller({ serial: 'MB-HUAWEI', unitId: 4 }, tcp.unit(4), {}, resolveRegisterMap('huawei-sun2000')),
      new InverterPoller({ serial: 'MB-RTU', unitId: 3 }, rtu.unit(3)),
    );
  }, 30_000);

  afterAll(async () => {
    for (const link of links) await link.close();
    await fleet?.stop();
    socat?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads every inverter’s counter, power and state as the simulator holds them, through a morning', async () => {
    for (let t = FROM; t <= FROM + 36 * STEP; t += STEP) {
      fleet.advanceTo(t);
      for (const [i, poller] of pollers.entries()) {
        const { reading, errors } = await poller.poll(t, t);
        expect(errors).toEqual([]);
        const sim = fleet.model.inverters[i]!.sim;
        const step = RESOLUTION_WH[i]!;
        expect(reading?.energy_wh_total, SERIALS[i]).toBe(Math.floor(sim.energyWhTotal / step) * step);
        expect(reading?.ts).toBe(t);
      }
    }
    const noon = await pollers[0]!.poll(FROM + 36 * STEP, FROM + 36 * STEP);
    expect(noon.reading?.ac_power_w).toBeGreaterThan(1000);
    expect(noon.reading?.state).toMatch(/MPPT|THROTTLED/);
    expect(fleet.model.inverters[3]!.sim.energyWhTotal).toBeGreaterThan(1_003_000);
  }, 60_000);

  it('drops a garbage counter read with an error naming the register, then goes on', async () => {
    const t = FROM + 40 * STEP;
    fleet.advanceTo(t);
    const device = fleet.inverters[0]!.device;
    device.poke('WH', [0x7fff, 0x0000]);
    const garbage = await pollers[0]!.poll(t, t);
    expect(garbage.reading).toBeNull();
    expect(garbage.errors.join('\n')).toMatch(
      /MB-INT \(unit 1\): energy counter rose \d+ Wh .* held until the next read/,
    );
    fleet.advanceTo(t + STEP);
    const next = await pollers[0]!.poll(t + STEP, t + STEP);
    expect(next.reading?.energy_wh_total).toBe(Math.floor(fleet.model.inverters[0]!.sim.energyWhTotal));
  });

  it('refuses a device whose serial is not the configured one', async () => {
    const wrong = new InverterPoller({ serial: 'SOMEONE-ELSE', unitId: 2 }, links[0]!.unit(2));
    const { reading, errors } = await wrong.poll(FROM, FROM);
    expect(reading).toBeNull();
    expect(errors[0]).toMatch(/reports serial 'MB-FLOAT', not 'SOMEONE-ELSE'/);
  });

  it('says which unit does not answer', async () => {
    const absent = new InverterPoller({ serial: 'NOBODY', unitId: 9 }, links[0]!.unit(9));
    const { errors } = await absent.poll(FROM, FROM);
    expect(errors[0]).toMatch(/not a SunSpec device .*unit 9/);
  });
});
