// A gateway cut off from the broker for 3 simulated days and killed with -9 twice meanwhile, then
// reconnected: every reading it had kept reaches InfluxDB, once. The gateway runs as on the box
// (the bundle under the systemd unit's node flags), as its own process on simulated time
// (GATEWAY_SIM_CLOCK, 8,640× real time: a day in 10 s, a poll every simulated hour) against the Modbus
// simulator; its link to the broker's TLS listener goes through a proxy the test cuts and restores.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModbusFleet } from '../../simulators/index';
import { env, waitFor } from '../../testing/services';
import { buildGatewayBundle, freePort, Link, type PlatformBed, platformBed, spawnBundledGateway } from './helpers';

const NAME = 'gateway_outage';
const SPEED = 8640;
const START = Date.UTC(2026, 9, 1, 0, 0); // 1 October 2026
/** The wall-clock instant that is simulated START: set when the test begins, after the setup. */
let anchor = Number.POSITIVE_INFINITY;
const simNow = () => START + (Date.now() - anchor) * SPEED;
const SERIALS = ['GWO-INT', 'GWO-701'];
const dir = mkdtempSync(join(tmpdir(), 'gateway-outage-'));

let bed: PlatformBed;
let fleet: ModbusFleet;
let link: Link;
let configFile: string;
let ticker: NodeJS.Timeout;
const kept = new Map<string, number>(); // poll instant (ISO) -> readings, as logged after the append
let lastPollMs = 0;
let pollsOfThisProcess = 0;
let output = '';

function startGateway(): ChildProcess {
  pollsOfThisProcess = 0;
  const child = spawnBundledGateway(['run', '--config', configFile], env, {
    LOG_LEVEL: 'debug',
    GATEWAY_SIM_CLOCK: `${START},${anchor},${SPEED}`,
  });
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) {
      output += `${line}\n`;
      const m = /poll at (\S+): (\d+) readings kept/.exec(line);
      if (m) {
        kept.set(m[1]!, Number(m[2]));
        lastPollMs = Date.parse(m[1]!);
        pollsOfThisProcess++;
      }
    }
  });
  child.stderr!.on('data', (d) => {
    output += d;
  });
  return child;
}
const killed = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
const untilSimulated = async (ms: number) => {
  while (simNow() < ms) await new Promise((r) => setTimeout(r, 20));
};
/** Until the running gateway has polled `polls` times and up to simulated `ms` (slow starts stretch the timeline, never skip it). */
const untilPolled = async (polls: number, ms = 0) => {
  while (pollsOfThisProcess < polls || lastPollMs < ms) await new Promise((r) => setTimeout(r, 20));
};

beforeAll(async () => {
  buildGatewayBundle();
  bed = await platformBed({
    name: NAME,
    gatewayId: `out${process.pid}`,
    dir,
    seed: 9,
    inverters: SERIALS.map((serial) => ({ serial, province: 'Yazd', initialCounterWh: 2_000_000 })),
  });
  link = new Link(await freePort(), Number(new URL(env.MQTT_TLS_URL!).port));
  await link.start();
  const modbusPort = await freePort();
  fleet = new ModbusFleet(bed.planned, {
    seed: 9,
    intervalSeconds: 300,
    profiles: ['int', 'der'],
    bases: [40000],
    tcp: { host: '127.0.0.1', port: modbusPort },
    fromMs: START,
  });
  fleet.advanceTo(START);
  await fleet.start();
  configFile = join(dir, 'gateway.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      gatewayId: `out${process.pid}`,
      broker: {
        url: `mqtts://127.0.0.1:${link.port}`,
        caFile: env.MQTT_TLS_CA_FILE,
        username: bed.username,
        password: bed.password,
        // Real seconds, while the test's days pass in 10 s: retry within 2 s once the link is back.
        backoff: { initialMs: 100, maxMs: 2000 },
      },
      pollSeconds: 3600,
      outbox: { dir: join(dir, 'outbox'), maxBytes: 8 << 20 },
      links: [
        {
          kind: 'tcp',
          host: '127.0.0.1',
          port: modbusPort,
          inverters: [
            { serial: 'GWO-INT', unitId: 1, ratedAcW: 5000 },
            { serial: 'GWO-701', unitId: 2, ratedAcW: 5000 },
          ],
        },
      ],
    }),
    { mode: 0o600 },
  );
}, 60_000);

afterAll(async () => {
  clearInterval(ticker);
  link?.close();
  await fleet?.stop();
  await bed?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('store and forward through an outage', () => {
  it('3 simulated days cut off, killed with -9 twice: every reading kept is stored, once', async () => {
    anchor = Date.now() + 2000;
    ticker = setInterval(() => {
      if (simNow() >= START) fleet.advanceTo(START + Math.floor((simNow() - START) / 300_000) * 300_000);
    }, 10);
    await untilSimulated(START);
    let gateway = startGateway();
    await untilPolled(5);
    // Modbus TCP only: serialport (native, for RTU) is not loaded.
    expect(readFileSync(`/proc/${gateway.pid}/maps`, 'utf8')).not.toMatch(/serialport/);
    link.cut();
    const cutAt = simNow();
    await untilPolled(5, cutAt + 86_400_000);
    await killed(gateway);
    gateway = startGateway();
    await untilPolled(5, cutAt + 2 * 86_400_000);
    await killed(gateway);
    gateway = startGateway();
    await untilPolled(5, cutAt + 3 * 86_400_000);
    link.restore();
    const restoredAt = simNow();
    await untilPolled(pollsOfThisProcess + 5, restoredAt);
    const keptReadings = [...kept.values()].reduce((a, b) => a + b, 0);
    // Hourly polls: at least 3 simulated days of them were kept while the link was down.
    const duringOutage = [...kept.keys()].filter((iso) => Date.parse(iso) >= cutAt && Date.parse(iso) < restoredAt);
    expect(duringOutage.length, output.slice(-2000)).toBeGreaterThanOrEqual(15);
    expect(restoredAt - cutAt).toBeGreaterThanOrEqual(3 * 86_400_000);
    const stored = async () =>
      (await bed.influx.rows(`SELECT "energy_wh_total", "serial" FROM "telemetry"`)) as {
        time: number; // epoch ms
        energy_wh_total: number;
        serial: string;
      }[];
    const loggedTimes = [...kept.keys()].map((iso) => Date.parse(iso));
    const missing = async () => {
      const storedTimes = new Set((await stored()).map((r) => `${r.serial} ${r.time}`));
      return SERIALS.flatMap((serial) => loggedTimes.filter((t) => !storedTimes.has(`${serial} ${t}`)));
    };
    await waitFor('every kept reading stored', missing, (m) => m.length === 0, 120_000, 500);
    const exited = new Promise((resolve) => gateway.once('exit', resolve));
    gateway.kill('SIGTERM');
    await exited;
    expect(await missing()).toEqual([]);
    // Once each: a poll in flight at a kill may be on disk without its log line, at most one per kill.
    const rows = await stored();
    expect(rows.length).toBeGreaterThanOrEqual(keptReadings);
    expect(rows.length - keptReadings).toBeLessThanOrEqual(2 * SERIALS.length);
    // The counters came through whole: per inverter, never backwards.
    for (const serial of SERIALS) {
      const energies = rows.filter((r) => r.serial === serial).map((r) => r.energy_wh_total);
      expect(
        energies.every((e, i) => i === 0 || e >= energies[i - 1]!),
        serial,
      ).toBe(true);
    }
  }, 180_000);
});
