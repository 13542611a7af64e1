// npm run bench:gateway — one gateway process (the bundle, as on the box: npm run gateway:bundle) against the
// Modbus simulator's 16 inverters on Modbus TCP, publishing over MQTT/TLS to the real broker, and
// the real ingest confirming what it stored, as in production (a reading leaves the outbox only then):
// (1) the box's load: 16 inverters every 10 s, resident memory and CPU; (2) how many readings per
// second one process polls, keeps, publishes and has confirmed when it polls as fast as it can.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMqttConfig } from '../../lib/config';
import { BrokerAdmin } from '../../lib/mqtt/broker-admin';
import { gatewayUsername, provisionGateway, removeGateway } from '../../lib/mqtt/gateway-accounts';
import { generatedFleet, ModbusFleet, planFleet, registerSimulatedFleet } from '../../simulators/index';
import { ingestWorkers } from '../../testing/drills';
import { env, freshInfluxDatabase } from '../../testing/services';
import { buildGatewayBundle, freePort, spawnBundledGateway, UNIT_ENVIRONMENT, UNIT_NODE_FLAGS } from '../test/helpers';

const INVERTERS = Number(process.env.BENCH_GATEWAY_INVERTERS ?? 16);
const LOAD_SECONDS = Number(process.env.BENCH_GATEWAY_LOAD_SECONDS ?? 60);
const MAX_SECONDS = Number(process.env.BENCH_GATEWAY_MAX_SECONDS ?? 30);
const progress = (m: string) => process.stderr.write(`${m}\n`);
// Measured as it runs on the box: the one bundled file with the systemd unit's node flags and environment.
buildGatewayBundle();
const dir = mkdtempSync(join(tmpdir(), 'gateway-bench-'));
const id = `bench${process.pid}`;
const planned = planFleet(
  generatedFleet({ count: INVERTERS, prefix: `GWB${process.pid}-`, province: 'Yazd', dcKwp: 5 }),
);
const serials = planned.map((p) => p.spec.serial);
// Ingest confirms each message it journaled: the gateway keeps a reading until then (gateway/README.md).
await registerSimulatedFleet(planned, env.DATABASE_URL!);
await freshInfluxDatabase('bench_gateway');
const ingest = ingestWorkers('bench_gateway');
await ingest.start();

const admin = await BrokerAdmin.connect(readMqttConfig(process.env, 'ADMIN'));
const password = (await provisionGateway(admin, id, serials, { rekey: true }))!;
const port = await freePort();
const fleet = new ModbusFleet(planned, {
  seed: 1,
  intervalSeconds: 10,
  profiles: ['int', 'float', 'der'],
  bases: [40000],
  tcp: { host: '127.0.0.1', port },
  fromMs: Date.UTC(2026, 5, 21, 4),
});
fleet.advanceTo(Date.UTC(2026, 5, 21, 4));
await fleet.start();
// The simulator's time runs as fast as the gateway's: real time, then 1000× for the full-speed run.
const SIM_START = Date.UTC(2026, 5, 21, 4);
let clock = { anchor: Date.now(), speed: 1 };
const ticker = setInterval(() => {
  const t = SIM_START + (Date.now() - clock.anchor) * clock.speed;
  fleet.advanceTo(SIM_START + Math.floor((t - SIM_START) / 10_000) * 10_000);
}, 100);

function configFile(name: string, pollSeconds: number): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      gatewayId: id,
      broker: {
        url: process.env.MQTT_TLS_URL,
        caFile: process.env.MQTT_TLS_CA_FILE,
        username: gatewayUsername(id),
        password,
      },
      time: { source: 'system' },
      pollSeconds,
      outbox: { dir: join(dir, `outbox-${name}`), maxBytes: 64 << 20 },
      links: [
        {
          kind: 'tcp',
          host: '127.0.0.1',
          port,
          inverters: serials.map((serial, i) => ({ serial, unitId: i + 1, ratedAcW: 5000 })),
        },
      ],
    }),
    { mode: 0o600 },
  );
  return file;
}

/** Resident memory (kB: all, anonymous, file-backed such as node's own code) and CPU ticks of a process, from /proc. */
function usage(pid: number): { rssKb: number; anonKb: number; fileKb: number; cpuTicks: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return {
    rssKb: kb('VmRSS'),
    anonKb: kb('RssAnon'),
    fileKb: kb('RssFile'),
    cpuTicks: Number(fields[11]) + Number(fields[12]),
  };
}

async function runGateway(name: string, pollSeconds: number, seconds: number, simClock?: string) {
  const child: ChildProcess = spawnBundledGateway(
    ['run', '--config', configFile(name, pollSeconds)],
    process.env,
    { LOG_LEVEL: 'warn', ...(simClock ? { GATEWAY_SIM_CLOCK: simClock } : {}) },
    'ignore',
  );
  const statusFile = join(dir, `outbox-${name}`, 'status.json');
  // Start-up, until the first status file (every 5 s): slow on a loaded machine.
  for (let i = 0; i < 120 && !existsSync(statusFile); i++) await new Promise((r) => setTimeout(r, 500));
  const before = usage(child.pid!);
  const first = JSON.parse(readFileSync(statusFile, 'utf8'));
  let peak = before;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = usage(child.pid!);
    if (now.rssKb > peak.rssKb) peak = now;
  }
  const after = usage(child.pid!);
  const elapsedS = (performance.now() - started) / 1000;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  const last = JSON.parse(readFileSync(statusFile, 'utf8'));
  const status = {
    readings: last.readings - first.readings,
    published: last.published - first.published,
    confirmed: last.confirmed - first.confirmed,
    confirming: last.confirming as boolean,
    registerErrors: last.registerErrors,
  };
  progress(`${name}: memory at the end (MB): ${JSON.stringify(last.memoryMb)}`);
  return { status, elapsedS, peak, cpuPercent: ((after.cpuTicks - before.cpuTicks) / 100 / elapsedS) * 100 };
}

progress(`load: ${INVERTERS} inverters every 10 s for ${LOAD_SECONDS} s`);
clock = { anchor: Date.now(), speed: 1 };
const load = await runGateway('load', 10, LOAD_SECONDS);
console.log(
  `BENCH ${JSON.stringify({
    name: 'gateway_load',
    inverters: INVERTERS,
    poll_s: 10,
    seconds: Math.round(load.elapsedS),
    readings: load.status.readings,
    published: load.status.published,
    confirmed: load.status.confirmed,
    confirming: load.status.confirming,
    register_errors: load.status.registerErrors,
    peak_rss_mb: Math.round(load.peak.rssKb / 102.4) / 10,
    // At the peak: the process's own memory, and the pages of node's binary and libraries it touched.
    peak_rss_anon_mb: Math.round(load.peak.anonKb / 102.4) / 10,
    peak_rss_file_mb: Math.round(load.peak.fileKb / 102.4) / 10,
    cpu_percent: Math.round(load.cpuPercent * 10) / 10,
    node_flags: UNIT_NODE_FLAGS.join(' '),
    unit_environment: UNIT_ENVIRONMENT,
  })}`,
);

progress(`max: ${INVERTERS} inverters polled as fast as possible for ${MAX_SECONDS} s`);
// Simulated time 1000× faster: a 10 s poll every 10 ms, so the gateway polls back to back.
clock = { anchor: Date.now(), speed: 1000 };
const max = await runGateway('max', 10, MAX_SECONDS, `${SIM_START},${clock.anchor},1000`);
console.log(
  `BENCH ${JSON.stringify({
    name: 'gateway_max',
    inverters: INVERTERS,
    seconds: Math.round(max.elapsedS),
    readings_per_s: Math.round(max.status.readings / max.elapsedS),
    published_per_s: Math.round(max.status.published / max.elapsedS),
    confirmed_per_s: Math.round(max.status.confirmed / max.elapsedS),
    confirming: max.status.confirming,
    peak_rss_mb: Math.round(max.peak.rssKb / 102.4) / 10,
    cpu_percent: Math.round(max.cpuPercent * 10) / 10,
  })}`,
);

clearInterval(ticker);
await fleet.stop();
await ingest.cleanup();
await removeGateway(admin, id);
await admin.close();
rmSync(dir, { recursive: true, force: true });
