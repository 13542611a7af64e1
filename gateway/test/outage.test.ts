// A gateway cut off from the broker for 3 simulated days and killed with -9 twice meanwhile, then
// reconnected: every reading it had kept reaches InfluxDB, once, and billing bills the outage's days
// exactly as the simulator produced them, to the Wh and the Rial. The gateway runs as on the box
// (the bundle under the systemd unit's node flags), as its own process on simulated time
// (GATEWAY_SIM_CLOCK, 8,640× real time: a day in 10 s, a poll every simulated hour) against the Modbus
// simulator; its link to the broker's TLS listener goes through a proxy the test cuts and restores.
// The outage starts just before a Solar Hijri month (Aban 1405) and the month is billed to date.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBillingConfig, runMonth } from '../../billing/index';
import { createLogger } from '../../lib/logger';
import { monthBounds, monthDays } from '../../lib/program/solar-hijri';
import { type ContractTerms, priceWh, rateOn } from '../../lib/program/tariff';
import { tehranDate, tehranHour } from '../../lib/program/tehran-time';
import { ModbusFleet } from '../../simulators/index';
import { env, waitFor } from '../../testing/services';
import { buildGatewayBundle, freePort, Link, type PlatformBed, platformBed, spawnBundledGateway } from './helpers';

const NAME = 'gateway_outage';
const SPEED = 8640;
const MONTH = '1405-08'; // Aban 1405: from 22 October 2026, 20:30 UTC
const H = 3_600_000;
const MONTH_START = monthBounds(MONTH).startMs;
/**
 * 18 hours before the month (06:00 Tehran): the gateway's first polls give the month its opening
 * reading even when the bundle takes seconds (simulated hours) to start on a loaded machine.
 */
const START = MONTH_START - 18 * H;
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
/** Per kill -9: the simulated instant, and the last poll logged before it (a poll in flight may be on disk unlogged). */
const kills: { atMs: number; lastLoggedMs: number }[] = [];
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
    kills.push({ atMs: simNow(), lastLoggedMs: lastPollMs });
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
    contracts: true,
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
    await untilPolled(5, MONTH_START - 2 * H);
    expect(Math.min(...[...kept.keys()].map(Date.parse)), 'a poll before the month').toBeLessThan(MONTH_START);
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
    // The window ends at night: at a poll between 20:00 and 23:00 Tehran time the simulated world stops
    // and the inverters stop answering, so the last day's energy is whole and no new readings come.
    while (!(tehranHour(lastPollMs) >= 20 && tehranHour(lastPollMs) <= 22)) await new Promise((r) => setTimeout(r, 5));
    clearInterval(ticker);
    const endMs = simNow();
    for (const inverter of fleet.inverters) inverter.answering = false;
    const truth = fleet.model.truth.snapshot().inverters;
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
    // The polls that kept readings (once the inverters are silent, a poll keeps none).
    const loggedTimes = () => [...kept].filter(([, n]) => n > 0).map(([iso]) => Date.parse(iso));
    const missing = async () => {
      const storedTimes = new Set((await stored()).map((r) => `${r.serial} ${r.time}`));
      return SERIALS.flatMap((serial) => loggedTimes().filter((t) => !storedTimes.has(`${serial} ${t}`)));
    };
    await waitFor('every kept reading stored', missing, (m) => m.length === 0, 120_000, 500);
    const exited = new Promise((resolve) => gateway.once('exit', resolve));
    gateway.kill('SIGTERM');
    await exited;
    expect(await missing()).toEqual([]);
    // Once each: every stored reading is a logged poll's, or one in flight at a kill -9 (on disk before
    // its log line: after the last poll logged before the kill, not after the kill).
    const rows = await stored();
    const logged = new Set(loggedTimes());
    const unlogged = rows.filter((r) => !logged.has(r.time));
    expect(
      unlogged.filter((r) => !kills.some((k) => r.time > k.lastLoggedMs && r.time <= k.atMs)),
      'stored readings no poll kept',
    ).toEqual([]);
    expect(unlogged.length).toBeLessThanOrEqual(kills.length * SERIALS.length);
    // The counters came through whole: per inverter, never backwards.
    for (const serial of SERIALS) {
      const energies = rows.filter((r) => r.serial === serial).map((r) => r.energy_wh_total);
      expect(
        energies.every((e, i) => i === 0 || e >= energies[i - 1]!),
        serial,
      ).toBe(true);
    }

    // Billed: the month to date (the outage's days) is exactly what the simulator produced, to the Wh,
    // priced by the contract's tariff, with no counter the billing model had to doubt.
    const pool = new pg.Pool({ connectionString: bed.databaseUrl, max: 2 });
    try {
      const config = { ...readBillingConfig(env), lookaroundDays: 400 };
      await runMonth(
        { pool, influx: bed.influx, log: createLogger('gateway-outage', 'silent'), config, now: () => endMs },
        MONTH,
        { actor: 'gateway-outage' },
      );
      const bills = (
        await pool.query<{
          code: string;
          energy_wh: string;
          gross_rials: string;
          incomplete: boolean;
          implausible: boolean;
          detail: { counters: Record<string, { flags: { kind: string }[] }> };
          kind: ContractTerms['kind'];
          start_date: string;
          rial_per_kwh: number;
        }>(
          `SELECT i.code, b.energy_wh, b.gross_rials, b.incomplete, b.implausible, b.detail, c.kind,
                  to_char(c.start_date, 'YYYY-MM-DD') AS start_date, t.rial_per_kwh
           FROM installation_bills b JOIN installations i ON i.id = b.installation_id
           JOIN contracts c ON c.installation_id = i.id JOIN tariff_periods t ON t.contract_id = c.id
           WHERE b.month = $1 ORDER BY i.code`,
          [MONTH],
        )
      ).rows;
      expect(bills.map((b) => b.code)).toEqual(SERIALS.map((s) => `SIM-${s}`).sort());
      const monthDates = monthDays(MONTH)
        .map((d) => d.date)
        .filter((d) => d <= tehranDate(endMs));
      expect(monthDates.length).toBeGreaterThanOrEqual(4); // the outage's three days and more
      for (const serial of SERIALS) {
        const bill = bills.find((b) => b.code === `SIM-${serial}`)!;
        const truthWh = monthDates.reduce((sum, d) => sum + (truth[serial]!.days[d] ?? 0), 0);
        const billedWh = Number(bill.energy_wh);
        // The counter shows whole Wh: billed = truth within that resolution.
        expect(Math.abs(billedWh - truthWh), serial).toBeLessThan(1);
        expect(billedWh, serial).toBeGreaterThan(3 * 10_000); // three autumn days of 5 kWp at least
        expect(bill.incomplete, serial).toBe(false);
        expect(bill.implausible, serial).toBe(false);
        // No glitch, jump, reset or unconfirmed reading in the outage's counters; a month to date has no closing reading.
        expect(
          bill.detail.counters[serial]!.flags.filter((f) => f.kind !== 'no_closing_reading'),
          serial,
        ).toEqual([]);
        const terms: ContractTerms = {
          reference: bill.code,
          kind: bill.kind,
          startDate: bill.start_date,
          periods: [{ from: bill.start_date, until: null, rialPerKwh: bill.rial_per_kwh }],
        };
        const rate = rateOn(terms, monthDates[0]!, config.rules.stepDowns)!;
        expect(BigInt(bill.gross_rials), serial).toBe(priceWh(billedWh, rate));
      }
    } finally {
      await pool.end();
    }
  }, 180_000);
});
