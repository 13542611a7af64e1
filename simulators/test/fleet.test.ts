// Simulated inverters through the real broker and ingest into InfluxDB: every fault appears on the
// wire as specified, and the stored counters agree with the simulator's ground truth.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latestReplacements, readCounterEnergy, recordReplacement } from '../../billing/index';
import type { InfluxClient } from '../../lib/influx/client';
import { createLogger } from '../../lib/logger';
import { runBackfill, startRealtimeFleet } from '../src/fleet';
import { commission } from '../src/commission';
import { registerSimulatedFleet } from '../src/registry';
import { planFleet, parseScenario } from '../src/scenario';
import { epochCounters, storedAfter, storedCounters } from '../src/stored-counters';
import {
  countPoints,
  databaseUrl,
  discardIngestSession,
  fleetMqtt,
  freshInfluxDatabase,
  ingestMetric,
  startIngestProcess,
  waitFor,
  type IngestProcess,
} from '../../testing/services';

const DATABASE = 'test_sim';
const tag = `E${process.pid}`;
const serial = (n: number) => `${tag}-${n}`;
const FROM = '2026-06-20T20:30:00Z'; // 1405-03-31 00:00 Tehran
const TO = '2026-06-21T20:30:00Z';
let influx: InfluxClient;
let ingest: IngestProcess;
let clients: MqttClient[];
const dataDir = mkdtempSync(join(tmpdir(), 'sim-test-'));
const worker = `sim${process.pid}`;

beforeAll(async () => {
  ({ influx } = await freshInfluxDatabase(DATABASE));
  ingest = await startIngestProcess({
    INFLUX_DATABASE: DATABASE,
    INGEST_SHARE_GROUP: `sim-${process.pid}`,
    INGEST_DATA_DIR: dataDir,
    INGEST_WORKER_ID: worker,
  });
  const account = fleetMqtt();
  clients = await Promise.all(
    [0, 1].map((i) =>
      mqtt.connectAsync(account.url, {
        username: account.username,
        password: account.password,
        clientId: `sim-test-${process.pid}-${i}`,
      }),
    ),
  );
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync()));
  await ingest.stop();
  await discardIngestSession(worker);
  rmSync(dataDir, { recursive: true, force: true });
});

/** Registers a 5 kW inverter (5 kWp, an installation each) under each serial; returns their plan. */
async function registerFiveKw(serials: string[], province = 'Kerman') {
  const planned = planFleet(
    parseScenario(
      JSON.stringify({ inverters: serials.map((s) => ({ serial: s, province, dcKwp: 5, ratedAcW: 5000 })) }),
    ),
  );
  await registerSimulatedFleet(planned, databaseUrl());
  return planned;
}

const scenario = parseScenario(
  JSON.stringify({
    seed: 7,
    inverters: [1, 2, 3, 4].map((n) => ({
      serial: serial(n),
      province: n === 4 ? 'Gilan' : 'Yazd',
      dcKwp: 5,
      ratedAcW: 5000,
    })),
    faults: [
      { serial: serial(1), kind: 'offline', from: '2026-06-21T06:00:00Z', until: '2026-06-21T08:00:00Z' },
      { serial: serial(2), kind: 'ground_fault', from: '2026-06-21T05:00:00Z', until: '2026-06-21T06:00:00Z' },
      { serial: serial(2), kind: 'counter_reset', from: '2026-06-21T09:00:00Z' },
      { serial: serial(3), kind: 'clock_skew', from: FROM, until: TO, skewSeconds: 120 },
      { serial: serial(3), kind: 'duplicate_sends', from: '2026-06-21T04:00:00Z', until: '2026-06-21T05:00:00Z' },
      { serial: serial(4), kind: 'malformed_messages', from: '2026-06-21T06:00:00Z', until: '2026-06-21T06:40:00Z' },
      {
        serial: serial(1),
        kind: 'broken_string',
        from: '2026-06-21T09:00:00Z',
        until: '2026-06-21T11:00:00Z',
        factor: 0.5,
      },
    ],
  }),
  'test scenario',
);

type Row = { time: number; energy_wh_total: number; ac_power_w: number; state: string; events: string | null };
const rowsOf = (n: number) =>
  influx.rows(
    `SELECT "energy_wh_total", "ac_power_w", "state", "events" FROM "telemetry" WHERE "serial" = '${serial(n)}' ORDER BY time`,
  ) as unknown as Promise<Row[]>;

describe('simulated fleet on the wire', () => {
  it('backfills a day with every fault kind; counters match the ground truth', async () => {
    const planned = planFleet(scenario);
    await registerSimulatedFleet(planned, databaseUrl());
    const result = await runBackfill(planned, {
      seed: 7,
      fromMs: Date.parse(FROM),
      toMs: Date.parse(TO),
      intervalSeconds: 300,
      clients,
    });
    expect(result.readings).toBe(4 * 288);
    await waitFor(
      'every reading stored',
      () => countPoints(influx, 'telemetry', `"serial" =~ /^${tag}-/`),
      (n) => n === 4 * 288,
      60_000,
      250,
    );
    // A datalogger's arrays within each device's fair share: a day is a few messages per device (the
    // faults add a duplicate resend, an offline flush and malformed ones), none turned away.
    expect(result.messages).toBeLessThan(4 * 30);
    expect(await ingestMetric(ingest.port, 'ingest_rejected_total{reason="rate_limited"}')).toBe(0);
    const truth = result.model.truth.snapshot().inverters;

    // 1: offline for two hours, then one buffered flush: nothing missing; broken string halves power.
    const one = await rowsOf(1);
    expect(one).toHaveLength(288);
    // The counter started at 0 Wh: its last value is everything produced.
    expect(
      Math.abs(one[287]!.energy_wh_total - Object.values(truth[serial(1)]!.days).reduce((a, b) => a + b, 0)),
    ).toBeLessThan(1);
    // Counter = integral of power: left-open rectangle rule over the reported samples.
    let integral = 0;
    for (let i = 1; i < one.length; i++)
      integral += (one[i]!.ac_power_w * (one[i]!.time - one[i - 1]!.time)) / 3_600_000;
    expect(Math.abs(integral - (one[287]!.energy_wh_total - one[0]!.energy_wh_total)) / integral).toBeLessThan(0.005);
    expect(one.every((r, i) => i === 0 || r.energy_wh_total >= one[i - 1]!.energy_wh_total)).toBe(true);
    const midnight = one.find((r) => r.time === Date.parse('2026-06-20T22:30:00Z'))!;
    expect(midnight).toMatchObject({ ac_power_w: 0, state: 'SLEEPING' });
    const noonPower = Math.max(
      ...one
        .filter((r) => r.time >= Date.parse('2026-06-21T07:00:00Z') && r.time <= Date.parse('2026-06-21T09:00:00Z'))
        .map((r) => r.ac_power_w),
    );
    const brokenPower = Math.max(
      ...one
        .filter((r) => r.time > Date.parse('2026-06-21T09:00:00Z') && r.time < Date.parse('2026-06-21T11:00:00Z'))
        .map((r) => r.ac_power_w),
    );
    expect(brokenPower).toBeLessThan(0.7 * noonPower);

    // 2: ground fault (state and event, no power), then a counter reset (counter back near zero).
    const two = await rowsOf(2);
    const faulted = two.filter(
      (r) => r.time > Date.parse('2026-06-21T05:00:00Z') && r.time < Date.parse('2026-06-21T06:00:00Z'),
    );
    expect(faulted.length).toBeGreaterThan(5);
    expect(faulted.every((r) => r.state === 'FAULT' && r.events === '["GROUND_FAULT"]' && r.ac_power_w === 0)).toBe(
      true,
    );
    const resetAt = two.findIndex((r) => r.events?.includes('COUNTER_RESET'));
    expect(two[resetAt]!.time).toBe(Date.parse('2026-06-21T09:00:00Z'));
    expect(two[resetAt]!.energy_wh_total).toBeLessThan(two[resetAt - 1]!.energy_wh_total);
    const produced2 = two[resetAt - 1]!.energy_wh_total + two[287]!.energy_wh_total;
    expect(Math.abs(produced2 - Object.values(truth[serial(2)]!.days).reduce((a, b) => a + b, 0))).toBeLessThan(2); // within 1 Wh per epoch

    // 3: device clock 120 s fast; duplicate sends do not add points.
    const three = await rowsOf(3);
    expect(three).toHaveLength(288);
    expect(three[0]!.time).toBe(Date.parse(FROM) + 300_000 + 120_000);

    // 4: the malformed stream is rejected with reasons, its valid readings all stored; Gilan is cloudier.
    const four = await rowsOf(4);
    expect(four).toHaveLength(288);
    // 06:00 to 06:40 every 5 minutes: 8 bad messages.
    const rejected = await waitFor(
      '8 rejections',
      () => influx.rows(`SELECT "reason", "detail" FROM "rejected"."rejected_message" WHERE "serial" = '${serial(4)}'`),
      (r) => r.length >= 8,
    );
    expect(rejected.length).toBe(8);
    expect(new Set(rejected.map((r) => r.reason))).toEqual(
      new Set(['malformed_json', 'invalid_reading', 'invalid_payload']),
    );
  });

  it('continues counters from storage: the latest, or for a backfill the latest at or before its start', async () => {
    // serial(2) produced through the day after 08:00 (UTC): its latest counter is not the one then.
    const eight = Date.parse('2026-06-21T08:00:00Z');
    const two = await rowsOf(2);
    const atEight = two.filter((r) => r.time <= eight).at(-1)!;
    expect(atEight.energy_wh_total).not.toBe(two.at(-1)!.energy_wh_total);
    expect((await storedCounters(influx)).get(serial(2))).toBe(two.at(-1)!.energy_wh_total);
    expect((await storedCounters(influx, eight)).get(serial(2))).toBe(atEight.energy_wh_total);
    // A backfill from 08:00 would fall between stored readings (the CLI refuses it); one after them would not.
    expect(await storedAfter(influx, eight)).toContain(serial(2));
    expect(await storedAfter(influx, Date.parse(TO) + 3_600_000)).not.toContain(serial(2));
    // Replaced after its last reading: the fleet continues the new counter recorded with the
    // replacement, and a backfill from before the replacement would cross it (the CLI refuses it).
    const swapMs = Date.parse(TO) + 3_600_000;
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 1 });
    try {
      await recordReplacement(
        pool,
        { serial: serial(2), replacedAt: new Date(swapMs), initialWh: 7, note: 'test' },
        't',
      );
      expect((await epochCounters(influx, pool)).get(serial(2))).toEqual({ from: 'replacement', atMs: swapMs, wh: 7 });
      expect((await epochCounters(influx, pool, { atOrBeforeMs: eight })).get(serial(2))).toMatchObject({
        atMs: swapMs,
      });
      expect((await epochCounters(influx, pool)).get(serial(3))).toMatchObject({ from: 'stored' });
    } finally {
      await pool.end();
    }
  });

  it('runs inverters in real time with status, last will and a buffered flush after an outage', async () => {
    const live = parseScenario(
      JSON.stringify({ inverters: [{ serial: `${tag}-RT`, province: 'Tehran', dcKwp: 5, ratedAcW: 5000 }] }),
    );
    const planned = planFleet(live);
    await registerSimulatedFleet(planned, databaseUrl());
    const fleet = await startRealtimeFleet(planned, {
      seed: 1,
      intervalSeconds: 1,
      credentials: () => fleetMqtt(),
      log: () => undefined,
    });
    const connection = fleet.connections.get(`${tag}-RT`)!;
    const base = Date.now() - 60_000;
    fleet.tick(base);
    expect(await connection.drained()).toBe(true);
    const where = `"serial" = '${tag}-RT'`;
    connection.goOffline(); // abrupt: the broker publishes the last will
    await waitFor(
      'the last will',
      () => influx.rows(`SELECT "online" FROM "device_status" WHERE ${where} AND "online" = false`),
      (rows) => rows.length === 1,
      30_000,
    );
    fleet.tick(base + 10_000);
    fleet.tick(base + 20_000);
    expect(connection.buffered).toBe(2);
    await connection.goOnline();
    fleet.tick(base + 30_000);
    await fleet.stop();
    await waitFor(
      '4 readings',
      () => countPoints(influx, 'telemetry', where),
      (n) => n === 4,
      30_000,
    );
    const statuses = await waitFor(
      'online, offline (will), online, offline',
      () => influx.rows(`SELECT "online" FROM "device_status" WHERE ${where}`),
      (rows) => rows.length >= 4,
      30_000,
    );
    expect(statuses.map((s) => s.online)).toEqual([true, false, true, false]);
  });

  it('commissions a registered inverter and explains each failure', async () => {
    await registerFiveKw([`${tag}-COM`], 'Fars');
    const run = (serialNumber: string, password = fleetMqtt().password, counterWh: number | null = 0) =>
      commission({
        serial: serialNumber,
        credentials: { ...fleetMqtt(), password },
        influx,
        databaseUrl: databaseUrl(),
        timeoutMs: 20_000,
        readings: 5,
        counterWh: counterWh ?? undefined,
      });
    // A serial that never reported: its counter is the display's, required (a burst from a guessed
    // 0 Wh would make a used inverter's first readings a jump); nothing is published without it.
    const guessed = await run(`${tag}-COM`, undefined, null);
    expect(guessed.checks.find((c) => c.name === 'counter to continue')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/has no counter of .*--counter-wh N \(0 for a new inverter\)/),
    });
    expect(guessed.checks.map((c) => c.name)).not.toContain('test burst published (QoS 1)');
    expect(await countPoints(influx, 'telemetry', `"serial" = '${tag}-COM'`)).toBe(0);

    const passed = await run(`${tag}-COM`);
    expect(passed.checks.map((c) => [c.name, c.ok])).toEqual([
      ['inverter registered', true],
      ['broker accepted the credentials', true],
      ['counter to continue', true],
      ['test burst published (QoS 1)', true],
      ['readings stored by the platform', true],
      ['stored under the right installation', true],
      ['status seen by the platform', true],
    ]);
    expect(passed.ok).toBe(true);

    const unknown = await run(`${tag}-NOPE`);
    expect(unknown.ok).toBe(false);
    expect(unknown.checks.find((c) => c.name === 'inverter registered')!.detail).toMatch(/not in the registry/);
    expect(unknown.checks.find((c) => c.name === 'readings stored by the platform')!.detail).toMatch(/unknown_device/);

    const refused = await run(`${tag}-COM`, 'wrong-password');
    expect(refused.checks.find((c) => c.name === 'broker accepted the credentials')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/Not authorized|Bad username or password/),
    });
  });

  it("commissions an inverter that has a history without breaking its counter: the inverter's next reading is taken", async () => {
    // serial(1) reported a day in June (the backfill above); a technician checks it again after a repair.
    const [before] = await influx.rows(
      `SELECT last("energy_wh_total") AS "wh" FROM "telemetry" WHERE "serial" = '${serial(1)}'`,
    );
    const historyWh = Number(before!.wh);
    const report = await commission({
      serial: serial(1),
      credentials: fleetMqtt(),
      influx,
      databaseUrl: databaseUrl(),
      timeoutMs: 20_000,
      readings: 3,
    });
    expect(report.checks.find((c) => c.name === 'readings stored by the platform')).toMatchObject({ ok: true });
    // The burst continued the stored counter: no reset in billing's data (it published 0.001 Wh on).
    const burst = await influx.rows(
      `SELECT "energy_wh_total" FROM "telemetry" WHERE "serial" = '${serial(1)}' AND "events" = '["COMMISSIONING"]'`,
    );
    expect(burst.map((r) => Number(r.energy_wh_total) - historyWh).map((wh) => wh.toFixed(3))).toEqual([
      '0.001',
      '0.002',
      '0.003',
    ]);
    // The inverter itself, at its counter, 2 kWh on since the last reading stored (produced meanwhile,
    // unreported): ingest's door takes it (from a counter back near zero, or from the burst stamped now,
    // it would be a rise no rating allows, refused as implausible_value).
    const account = fleetMqtt();
    const client = await mqtt.connectAsync(account.url, {
      username: account.username,
      password: account.password,
      clientId: `sim-test-own-${process.pid}`,
    });
    const own = { ts: Date.now(), energy_wh_total: historyWh + 2000, ac_power_w: 60, state: 'MPPT' };
    await client.publishAsync(`solar/v1/${serial(1)}/telemetry`, JSON.stringify(own), { qos: 1 });
    await client.endAsync();
    await waitFor(
      "the inverter's own reading stored",
      () => countPoints(influx, 'telemetry', `"serial" = '${serial(1)}' AND time = ${own.ts}ms`),
      (n) => n === 1,
      30_000,
    );
  });

  it("commissions a replaced inverter on its new counter: the inverter's next reading is taken, no energy is invented", async () => {
    // Two 5 kW inverters reported until two days ago (150 kWh on their counters) and were replaced
    // an hour later: A by a new one whose counter an operator recorded (1,000 Wh), B by a used one
    // (2,000,000 Wh) recorded without its counter. A technician commissions each, then each reports.
    const swapped = ['SWP-A', 'SWP-B'].map((s) => `${tag}-${s}`) as [string, string];
    const planned = await registerFiveKw(swapped);
    const H = 3_600_000;
    const lastMs = Math.floor(Date.now() / H) * H - 50 * H;
    const swapMs = lastMs + H;
    // Their counters when each reports: A produced 1,500 Wh since its swap, B's display was read at commissioning.
    const ownCounter = { [swapped[0]]: 2_500, [swapped[1]]: 2_000_001 };
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 2 });
    try {
      // Recorded before the old inverters' history goes in: ingest has reloaded its registry by the time it is stored.
      await recordReplacement(
        pool,
        { serial: swapped[0], replacedAt: new Date(swapMs), initialWh: 1_000, note: 'test' },
        't',
      );
      await recordReplacement(
        pool,
        { serial: swapped[1], replacedAt: new Date(swapMs), initialWh: null, note: 'test' },
        't',
      );
      const history = [2, 1, 0].map((k) => ({
        ts: lastMs - k * H,
        energy_wh_total: 150_000 - k * 1000,
        ac_power_w: 0,
        state: 'MPPT',
      }));
      for (const s of swapped)
        await clients[0]!.publishAsync(`solar/v1/${s}/telemetry`, JSON.stringify(history), { qos: 1 });
      const where = `("serial" = '${swapped[0]}' OR "serial" = '${swapped[1]}')`;
      await waitFor(
        "the old inverters' history",
        () => countPoints(influx, 'telemetry', where),
        (n) => n === 6,
        30_000,
      );

      const run = (serialNumber: string, counterWh?: number) =>
        commission({
          serial: serialNumber,
          credentials: fleetMqtt(),
          influx,
          databaseUrl: databaseUrl(),
          timeoutMs: 20_000,
          readings: 3,
          counterWh,
        });
      const counterCheck = (report: Awaited<ReturnType<typeof run>>) =>
        report.checks.find((c) => c.name === 'counter to continue');
      const a = await run(swapped[0]);
      expect(counterCheck(a)).toMatchObject({
        ok: true,
        detail: expect.stringContaining('1000 Wh, recorded with its replacement'),
      });
      expect(a.ok).toBe(true);
      // B's new counter is known to no one but the technician at its display: nothing is published without it.
      const b = await run(swapped[1]);
      expect(b.ok).toBe(false);
      expect(counterCheck(b)).toMatchObject({
        ok: false,
        detail: expect.stringMatching(/without its new counter recorded.*--counter-wh/),
      });
      expect(b.checks.map((c) => c.name)).not.toContain('test burst published (QoS 1)');
      expect(await countPoints(influx, 'telemetry', `"serial" = '${swapped[1]}'`)).toBe(3);
      expect((await run(swapped[1], 2_000_000)).ok).toBe(true);
      // A counter the platform knows is not overridden from the command line.
      expect(counterCheck(await run(swapped[0], 5_000_000))).toMatchObject({
        ok: false,
        detail: expect.stringMatching(/knows/),
      });

      // Each new inverter's own next reading, at its counter: ingest's door takes it.
      const ownMs = Date.now();
      for (const s of swapped) {
        const own = { ts: ownMs, energy_wh_total: ownCounter[s]!, ac_power_w: 60, state: 'MPPT' };
        await clients[0]!.publishAsync(`solar/v1/${s}/telemetry`, JSON.stringify(own), { qos: 1 });
      }
      await waitFor(
        "the new inverters' own readings stored",
        () => countPoints(influx, 'telemetry', `${where} AND time = ${ownMs}ms`),
        (n) => n === 2,
        30_000,
      );
      // Billing from the old inverters' first reading to the new ones' own: the old counters' 2,000 Wh,
      // nothing for the swap or the bursts, then what the new ones produced. No hold, no reset, nothing
      // awaiting confirmation.
      const replacements = await latestReplacements(pool, swapped);
      const energy = await readCounterEnergy(
        { influx, config: { lookaroundDays: 7 }, log: createLogger('sim-test', 'silent') },
        swapped.map((s) => ({ serial: s, ratedAcW: 5000, provinceCode: String(planned[0]!.provinceCode) })),
        [{ startMs: lastMs - 2 * H, endMs: ownMs }],
        { replacements: new Map([...replacements].map(([s, r]) => [s, [r]])) },
      );
      expect(swapped.map((s) => energy.get(s)!.totalWh)).toEqual([2000 + 1500, 2000 + 1]);
      for (const s of swapped) {
        expect(
          energy.get(s)!.flags.map((f) => f.kind),
          s,
        ).toEqual(['replacement']);
      }
    } finally {
      await pool.end();
    }
  });

  it('commissions an inverter swapped seconds ago, or one reporting whole seconds, without a reset billed or a reading in flight refused', async () => {
    // SWN was replaced (new counter 1,000 Wh) two seconds before a 10-reading commissioning; LIV reports
    // every 5 s stamped on whole seconds, its next reading still in flight when the technician runs a
    // 5-reading one. Stamped back from now, SWN's burst fell before the swap, the new counter a reset
    // in the old epoch that billing counted as 1,000 Wh produced; LIV's landed on its next reading's second.
    const [swapped, live] = ['SWN', 'LIV'].map((s) => `${tag}-${s}`) as [string, string];
    await registerFiveKw([swapped, live]);
    const H = 3_600_000;
    const oldMs = Date.now() - 50 * H;
    const secondMs = Math.floor(Date.now() / 1000) * 1000 - 6000;
    const reading = (ts: number, wh: number) => ({ ts, energy_wh_total: wh, ac_power_w: 60, state: 'MPPT' });
    const publish = (s: string, readings: object[]) =>
      clients[0]!.publishAsync(`solar/v1/${s}/telemetry`, JSON.stringify(readings), { qos: 1 });
    await publish(swapped, [reading(oldMs - H, 149_000), reading(oldMs, 150_000)]);
    await publish(live, [reading(secondMs - 5000, 10_000), reading(secondMs, 10_004)]);
    const where = `("serial" = '${swapped}' OR "serial" = '${live}')`;
    await waitFor(
      'their history',
      () => countPoints(influx, 'telemetry', where),
      (n) => n === 4,
      30_000,
    );
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 2 });
    try {
      const swapMs = Date.now() - 2000;
      await recordReplacement(
        pool,
        { serial: swapped, replacedAt: new Date(swapMs), initialWh: 1_000, note: 'test' },
        't',
      );
      for (const s of [swapped, live]) {
        const report = await commission({
          serial: s,
          credentials: fleetMqtt(),
          influx,
          databaseUrl: databaseUrl(),
          timeoutMs: 20_000,
          readings: s === swapped ? 10 : 5,
        });
        expect(report.ok, JSON.stringify(report.checks)).toBe(true);
      }
      // Each one's own next reading: the swapped one's now (1 Wh produced since), the live one's in flight.
      const ownMs = Date.now();
      await publish(swapped, [reading(ownMs, 1_001)]);
      await publish(live, [reading(secondMs + 5000, 10_008)]);
      // (InfluxQL takes no OR between time conditions: one count each.)
      const stored = async () =>
        (await countPoints(influx, 'telemetry', `"serial" = '${swapped}' AND time = ${ownMs}ms`)) +
        (await countPoints(
          influx,
          'telemetry',
          `"serial" = '${live}' AND time = ${secondMs + 5000}ms AND "energy_wh_total" = 10008`,
        ));
      await waitFor('their own readings stored', stored, (n) => n === 2, 30_000);
      // Billing: the old inverter's 1,000 Wh, then the new one's 1 Wh; the new counter is no reset in the old epoch.
      const replacements = await latestReplacements(pool, [swapped]);
      const energy = (
        await readCounterEnergy(
          { influx, config: { lookaroundDays: 7 }, log: createLogger('sim-test', 'silent') },
          [{ serial: swapped, ratedAcW: 5000, provinceCode: '1' }],
          [{ startMs: oldMs - H, endMs: ownMs }],
          { replacements: new Map([...replacements].map(([s, r]) => [s, [r]])) },
        )
      ).get(swapped)!;
      expect(energy.flags.map((f) => f.kind)).toEqual(['replacement']);
      expect(energy.totalWh).toBe(1_000 + 1);
    } finally {
      await pool.end();
    }
  });

  it('commissions an inverter whose last reading is past the raw retention, still stored: the burst is stamped where ingest takes it', async () => {
    // InfluxDB drops a whole shard group (up to a week) once all of it is past the retention, so the
    // last reading may still be read after ingest refuses its instant. Here: a reading 2 h old and a
    // worker keeping 1 h, on a database of their own. Stamped just after that reading, the burst was
    // refused (timestamp_too_old), and --counter-wh refused too: the platform knows the counter.
    const database = 'test_sim_retention';
    const { influx: own } = await freshInfluxDatabase(database);
    const serialNumber = `${tag}-RET`;
    await registerFiveKw([serialNumber]);
    const oldMs = Date.now() - 2 * 3_600_000;
    await own.write(`telemetry,serial=${serialNumber} energy_wh_total=150000,ac_power_w=0,state="MPPT" ${oldMs}000000`);
    const retentionWorker = `simret${process.pid}`;
    const retentionDir = mkdtempSync(join(tmpdir(), 'sim-retention-'));
    const keepingAnHour = await startIngestProcess({
      INFLUX_DATABASE: database,
      INFLUX_RAW_RETENTION: '1h',
      INGEST_SHARE_GROUP: `simret-${process.pid}`,
      INGEST_DATA_DIR: retentionDir,
      INGEST_WORKER_ID: retentionWorker,
    });
    try {
      const report = await commission({
        serial: serialNumber,
        credentials: fleetMqtt(),
        influx: own,
        databaseUrl: databaseUrl(),
        timeoutMs: 20_000,
        readings: 3,
        rawRetentionMs: 3_600_000,
      });
      expect(report.ok, JSON.stringify(report.checks)).toBe(true);
      const burst = await own.rows(
        `SELECT "energy_wh_total" FROM "telemetry" WHERE "serial" = '${serialNumber}' AND time > ${oldMs}ms`,
      );
      expect(burst.map((r) => Number(r.energy_wh_total))).toEqual([150_000.001, 150_000.002, 150_000.003]);
    } finally {
      await keepingAnHour.stop();
      await discardIngestSession(retentionWorker);
      rmSync(retentionDir, { recursive: true, force: true });
    }
  });
});
