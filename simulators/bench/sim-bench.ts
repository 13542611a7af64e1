// npm run bench:sim — (1) how many inverters one simulator process sustains in real time: each
// with its own MQTT connection, every tick's readings simulated and acknowledged by the broker
// within the interval; (2) backfill of a month of 5-minute data for 100 inverters through the real
// broker and ingest, counted in InfluxDB.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { runBackfill, startRealtimeFleet } from '../src/fleet';
import { registerSimulatedFleet } from '../src/registry';
import { generatedFleet, planFleet } from '../src/scenario';
import {
  countPoints,
  databaseUrl,
  discardIngestSession,
  fleetMqtt,
  freshInfluxDatabase,
  startIngestProcess,
} from '../../testing/services';
import { ensureFleetAccount } from '../../lib/mqtt/service-accounts';

const progress = (m: string) => process.stderr.write(`${m}\n`);
// The benchmark publishes as the simulated fleet, whose broker account exists only where a fleet runs.
await ensureFleetAccount(process.env);
const INVERTERS = Number(process.env.BENCH_SIM_INVERTERS ?? 10_000);
const INTERVAL_S = 10;
const TICKS = Number(process.env.BENCH_SIM_TICKS ?? 6);

async function realtime() {
  const planned = planFleet(
    generatedFleet({ count: INVERTERS, prefix: `RT${process.pid}-`, province: 'all', dcKwp: 5 }),
  );
  const connectStart = performance.now();
  const fleet = await startRealtimeFleet(planned, {
    seed: 1,
    intervalSeconds: INTERVAL_S,
    credentials: () => fleetMqtt(),
    log: progress,
    connectConcurrency: 250,
  });
  const connectSeconds = (performance.now() - connectStart) / 1000;
  progress(
    `realtime: ${INVERTERS} connections in ${connectSeconds.toFixed(1)} s; running ${TICKS} ticks of ${INTERVAL_S} s`,
  );
  const tickMs: number[] = [];
  const ackedMs: number[] = [];
  for (let t = 0; t < TICKS; t++) {
    const tickStart = performance.now();
    tickMs.push(fleet.tick(Date.now()));
    await Promise.all([...fleet.connections.values()].map((c) => c.drained(INTERVAL_S * 1000)));
    ackedMs.push(performance.now() - tickStart);
    progress(
      `realtime: tick ${t + 1}: simulated in ${tickMs.at(-1)!.toFixed(0)} ms, all acknowledged after ${ackedMs.at(-1)!.toFixed(0)} ms`,
    );
    await new Promise((r) => setTimeout(r, Math.max(0, INTERVAL_S * 1000 - (performance.now() - tickStart))));
  }
  const published = [...fleet.connections.values()].reduce((n, c) => n + c.published, 0);
  await fleet.stop();
  const result = {
    name: 'sim-realtime',
    inverters: INVERTERS,
    interval_s: INTERVAL_S,
    ticks: TICKS,
    connect_s: Math.round(connectSeconds * 10) / 10,
    tick_compute_ms_max: Math.round(Math.max(...tickMs)),
    tick_acked_ms_max: Math.round(Math.max(...ackedMs)),
    sustained: Math.max(...ackedMs) < INTERVAL_S * 1000 && published === INVERTERS * TICKS,
    published,
  };
  console.log(`BENCH ${JSON.stringify(result)}`);
}

async function backfill() {
  const { influx } = await freshInfluxDatabase('bench_sim');
  const dataDir = mkdtempSync(join(tmpdir(), 'sim-bench-'));
  const worker = `simbench${Date.now()}`;
  const ingest = await startIngestProcess({
    INFLUX_DATABASE: 'bench_sim',
    INGEST_SHARE_GROUP: worker,
    INGEST_DATA_DIR: dataDir,
    INGEST_WORKER_ID: worker,
  });
  const planned = planFleet(generatedFleet({ count: 100, prefix: `BF${process.pid}-`, province: 'all', dcKwp: 5 }));
  await registerSimulatedFleet(planned, databaseUrl());
  const account = fleetMqtt();
  const clients = await Promise.all(
    [0, 1, 2, 3].map((i) =>
      mqtt.connectAsync(account.url, {
        username: account.username,
        password: account.password,
        clientId: `bench-bf-${process.pid}-${i}`,
      }),
    ),
  );
  const fromMs = Date.parse('2026-10-01T00:00:00Z');
  const toMs = fromMs + 30 * 86_400_000;
  progress('backfill: 100 inverters, 30 days, 5-minute readings');
  const started = performance.now();
  const result = await runBackfill(planned, { seed: 1, fromMs, toMs, intervalSeconds: 300, clients });
  let stored = 0;
  let lastChange = performance.now();
  while (stored < result.readings && performance.now() - lastChange < 15_000) {
    const now = await countPoints(influx, 'telemetry');
    if (now !== stored) {
      stored = now;
      lastChange = performance.now();
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const storedSeconds = (lastChange - started) / 1000;
  await Promise.all(clients.map((c) => c.endAsync()));
  await ingest.stop();
  await discardIngestSession(worker);
  rmSync(dataDir, { recursive: true, force: true });
  console.log(
    `BENCH ${JSON.stringify({
      name: 'sim-backfill',
      inverters: 100,
      days: 30,
      readings: result.readings,
      messages: result.messages,
      publish_s: Math.round(result.seconds * 10) / 10,
      publish_readings_per_s: Math.round(result.readings / result.seconds),
      stored,
      lost: result.readings - stored,
      all_stored_s: Math.round(storedSeconds * 10) / 10,
    })}`,
  );
}

await backfill();
await realtime();
process.exit(0);
