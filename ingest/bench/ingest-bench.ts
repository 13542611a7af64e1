// npm run bench:ingest — many devices publish at full rate with QoS 1 through the real Mosquitto;
// measured end to end into the real InfluxDB (stored = counted in InfluxDB), first for the naive
// reference (ack on arrival), then for the ingest service, in one run on the same machine.
// BENCH_INGEST_WORKERS (default 1) runs that many ingest workers on one shared subscription.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishBurst } from '../../testing/publish';
import {
  connectFleetClient,
  countPoints,
  discardIngestSession,
  FAIR_SHARE_LIFTED,
  freshInfluxDatabase,
  registerFleet,
  startIngestProcess,
  withPg,
} from '../../testing/services';
import { ensureFleetAccount } from '../../lib/mqtt/service-accounts';
import { BROKER_FAIR_SHARE } from '../../lib/telemetry/fair-share';

const READINGS = Number(process.env.BENCH_READINGS ?? 300_000);
const DEVICES = Number(process.env.BENCH_DEVICES ?? 1000);
const PUBLISHERS = Number(process.env.BENCH_PUBLISHERS ?? 4);
const WINDOW = 1000; // unacknowledged publishes per connection
const progress = (message: string) => process.stderr.write(`${message}\n`);
// Each device publishes its readings at once: the broker's fair share (ops/broker/fair-share-plugin.c)
// closes the connection of a device beyond its burst, which would measure reconnections, not ingest.
if (READINGS / DEVICES > BROKER_FAIR_SHARE.messageBurst / 2) {
  console.error(
    `error: ${READINGS / DEVICES} readings per device exceed half the broker's burst per device (` +
      `${BROKER_FAIR_SHARE.messageBurst}, lib/telemetry/fair-share.ts): raise BENCH_DEVICES or lower BENCH_READINGS`,
  );
  process.exit(2);
}
// The benchmark publishes as the simulated fleet, whose broker account exists only where a fleet runs.
await ensureFleetAccount(process.env);

const serials = await registerFleet('BENCH', DEVICES, { perInstallation: 10 });
const installationOf = await withPg(async (c) => {
  const { rows } = await c.query<{ serial: string; code: string }>(
    `SELECT inv.serial, ins.code FROM inverters inv JOIN installations ins ON ins.id = inv.installation_id WHERE inv.serial LIKE 'BENCH%'`,
  );
  return rows.map((r) => [r.serial, r.code] as [string, string]);
});

async function publishAll(runId: string) {
  const clients = await Promise.all(
    Array.from({ length: PUBLISHERS }, (_, i) => connectFleetClient(`bench-pub-${runId}-${i}`, { protocolVersion: 5 })),
  );
  const startedAt = Date.now();
  // A day ago: unique timestamps per device, well inside retention.
  const result = await publishBurst(clients, {
    serials,
    readings: READINGS,
    baseTs: startedAt - 86_400_000,
    windowPerClient: WINDOW,
  });
  await Promise.all(clients.map((c) => c.endAsync()));
  return { ...result, startedAt };
}

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round((sorted[Math.floor(sorted.length * 0.99)] ?? 0) * 10) / 10;
}

async function measure(
  name: string,
  database: string,
  startSubscriber: (database: string, group: string) => Promise<() => Promise<void>>,
) {
  const { influx } = await freshInfluxDatabase(database);
  const group = `bench-${name}-${Date.now()}`;
  const stopSubscriber = await startSubscriber(database, group);
  progress(`${name}: publishing ${READINGS} readings from ${DEVICES} devices over ${PUBLISHERS} connections (QoS 1)`);
  const { published, ackMs, startedAt } = await publishAll(name);
  progress(
    `${name}: published ${published} in ${((Date.now() - startedAt) / 1000).toFixed(1)} s; waiting for InfluxDB`,
  );
  let stored = 0;
  let lastChange = Date.now();
  let finishedAt = Date.now();
  while (Date.now() - lastChange < 10_000) {
    const now = await countPoints(influx, 'telemetry');
    if (now !== stored) {
      stored = now;
      lastChange = Date.now();
      finishedAt = Date.now();
      progress(`${name}: ${stored} stored`);
    }
    if (stored >= published) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await stopSubscriber();
  const seconds = (finishedAt - startedAt) / 1000;
  const result = {
    name,
    readings_per_s: Math.round(stored / seconds),
    published,
    stored,
    lost: published - stored,
    p99_ack_ms: p99(ackMs),
    seconds: Math.round(seconds * 10) / 10,
  };
  console.log(`BENCH ${JSON.stringify(result)}`);
  return result;
}

const naive = await measure('ingest-naive', 'bench_naive', async (database, group) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'ingest/bench/naive-ingest.ts'], {
    env: {
      ...process.env,
      INFLUX_DATABASE: database,
      INGEST_SHARE_GROUP: group,
      BENCH_DEVICES: JSON.stringify(installationOf),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) =>
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    }),
  );
  return async () => {
    child.kill('SIGKILL');
  };
});

// Workers on one shared subscription, each with its own journal, as production scales out (`solar-ingest@N`).
const WORKERS = Number(process.env.BENCH_INGEST_WORKERS ?? 1);
const ours = await measure(
  WORKERS === 1 ? 'ingest' : `ingest-${WORKERS}-workers`,
  'bench_ingest',
  async (database, group) => {
    const workers = await Promise.all(
      Array.from({ length: WORKERS }, async (_, k) => {
        const worker = `bench${Date.now()}w${k}`;
        const dataDir = mkdtempSync(join(tmpdir(), 'ingest-bench-'));
        const ingest = await startIngestProcess({
          // The benchmark measures ingest's capacity with every device at full rate: far over a device's fair share.
          ...FAIR_SHARE_LIFTED,
          INFLUX_DATABASE: database,
          INGEST_SHARE_GROUP: group,
          INGEST_DATA_DIR: dataDir,
          INGEST_WORKER_ID: worker,
        });
        return async () => {
          await ingest.stop();
          await discardIngestSession(worker);
          rmSync(dataDir, { recursive: true, force: true });
        };
      }),
    );
    return async () => {
      for (const stop of workers) await stop();
    };
  },
);
console.log(
  `BENCH ${JSON.stringify({ name: 'ingest-ratio', ratio_vs_naive: Math.round((ours.readings_per_s / naive.readings_per_s) * 100) / 100 })}`,
);
process.exit(0);
