// The field technician's and operator's simulator CLI:  npm run sim -- <command> [options]
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  command,
  instant,
  main,
  type Parsed,
  positiveNumber,
  progress,
  Refusal,
  UsageError,
  usage,
} from '../../lib/cli';
import mqtt from 'mqtt';
import { readDatabaseUrl, readInfluxConfig, readMqttConfig } from '../../lib/config';
import { InfluxClient } from '../../lib/influx/client';
import { rebuildRollups } from '../../lib/influx/layout';
import { BrokerAdmin } from '../../lib/mqtt/broker-admin';
import { provisionDevices } from '../../lib/mqtt/device-accounts';
import { ensureFleetAccount, fleetAccountNote } from '../../lib/mqtt/service-accounts';
import { loadProvinces } from '../../lib/provinces';
import { commission } from './commission';
import { MODBUS_PROFILES, ModbusFleet } from './modbus/modbus-fleet';

import { runBackfill, startRealtimeFleet } from './fleet';
import { DEFAULT_CLIMATE, PROVINCE_CLIMATE } from './physics/climate';
import { expectedYield } from './physics/pv-system';
import { addDemoContracts, registerSimulatedFleet } from './registry';
import { generatedFleet, loadScenario, planFleet } from './scenario';
import { storedCounters } from './stored-counters';

const FLEET_OPTIONS = {
  scenario: { type: 'string' },
  inverters: { type: 'string' },
  prefix: { type: 'string', default: 'SIM' },
  province: { type: 'string', default: 'all' },
  kwp: { type: 'string' },
  interval: { type: 'string' },
  seed: { type: 'string' },
  register: { type: 'boolean' },
  provision: { type: 'boolean' },
  backfill: { type: 'boolean' },
  from: { type: 'string' },
  to: { type: 'string' },
  truth: { type: 'string' },
  duration: { type: 'string' },
  'continue-counters': { type: 'boolean' },
} as const;

/** Before publishing with the fleet account (MQTT_FLEET_USERNAME): it exists only where a fleet runs. */
async function useFleetAccount(): Promise<void> {
  process.stderr.write(`${fleetAccountNote(process.env, await ensureFleetAccount(process.env))}\n`);
}

async function fleetCommand({ values }: Parsed<typeof FLEET_OPTIONS>): Promise<void> {
  const scenario = values.scenario
    ? loadScenario(values.scenario)
    : generatedFleet({
        count: positiveNumber(values.inverters, 'inverters', 100),
        prefix: values.prefix!,
        province: values.province!,
        dcKwp: positiveNumber(values.kwp, 'kwp', 5),
      });
  if (values['continue-counters'] && !values.backfill) {
    const stored = await storedCounters(new InfluxClient(readInfluxConfig(process.env, 'READER')));
    for (const inverter of scenario.inverters)
      inverter.initialCounterWh = stored.get(inverter.serial) ?? inverter.initialCounterWh;
  }
  const planned = planFleet(scenario);
  const seed = values.seed !== undefined ? positiveNumber(values.seed, 'seed', 1) : (scenario.seed ?? 1);
  const truthPath = values.truth ?? join(process.env.SOLAR_DATA_DIR ?? '.data/run', 'simulator', 'ground-truth.json');
  mkdirSync(dirname(truthPath), { recursive: true });
  const fleetAccount = readMqttConfig(process.env, 'FLEET');
  if (values.register) {
    const added = await registerSimulatedFleet(planned, readDatabaseUrl(process.env));
    const contracts = await addDemoContracts(planned, readDatabaseUrl(process.env));
    process.stderr.write(
      `registry: ${added} new inverters (${planned.length} in the fleet), ${contracts} new demo contracts\n`,
    );
  }

  if (values.backfill) {
    const toMs = instant(values.to, 'to', Math.floor(Date.now() / 60_000) * 60_000);
    const fromMs = instant(values.from, 'from', toMs - 86_400_000);
    if (fromMs >= toMs) usage('--from must be before --to');
    const intervalSeconds = positiveNumber(values.interval, 'interval', scenario.intervalSeconds ?? 300);
    await useFleetAccount();
    const clients = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        mqtt.connectAsync(fleetAccount.url, {
          username: fleetAccount.username,
          password: fleetAccount.password,
          clientId: `backfill-${process.pid}-${i}`,
        }),
      ),
    );
    const readings = progress('backfill: readings');
    const result = await runBackfill(planned, {
      seed,
      fromMs,
      toMs,
      intervalSeconds,
      clients,
      onProgress: (done, total) => readings.update(done, total),
    });
    await Promise.all(clients.map((c) => c.endAsync()));
    result.model.truth.write(truthPath);
    readings.end(
      `backfill: ${result.readings} readings in ${result.messages} messages, ${result.seconds.toFixed(1)} s (` +
        `${Math.round(result.readings / result.seconds)} readings/s; ${(result.pacedMs / 1000).toFixed(1)} s ` +
        `waited for devices' fair share), ground truth ${truthPath}`,
    );
    // SELECT ... INTO the rollups: the admin's (readers cannot write, the writer cannot read).
    await rebuildRollups(new InfluxClient(readInfluxConfig(process.env, 'ADMIN')), fromMs, toMs).catch((e: Error) =>
      process.stderr.write(`rollups not rebuilt: ${e.message}\n`),
    );
    return;
  }

  const intervalSeconds = positiveNumber(values.interval, 'interval', scenario.intervalSeconds ?? 10);
  const credentials = new Map(scenario.inverters.map((i) => [i.serial, i]));
  if (values.provision) {
    // Device passwords are kept (mode 600) beside the ground truth, so later runs reuse them.
    const store = join(dirname(truthPath), 'device-credentials.json');
    const known: Record<string, string> = existsSync(store) ? JSON.parse(readFileSync(store, 'utf8')) : {};
    const missing = planned
      .map((p) => p.spec.serial)
      .filter((serial) => !credentials.get(serial)?.username && !known[serial]);
    if (missing.length > 0) {
      const admin = await BrokerAdmin.connect(readMqttConfig(process.env, 'ADMIN'));
      try {
        const accounts = progress('provision: device accounts');
        const made = await provisionDevices(admin, missing, (n) => accounts.update(n, missing.length));
        accounts.end();
        for (const [serial, password] of made) known[serial] = password;
      } finally {
        await admin.close();
      }
      writeFileSync(store, JSON.stringify(known), { mode: 0o600 });
    }
    for (const p of planned) {
      const password = known[p.spec.serial];
      if (password && !credentials.get(p.spec.serial)?.username)
        credentials.set(p.spec.serial, { ...p.spec, username: p.spec.serial, password });
    }
    process.stderr.write(`provision: every inverter connects with its own broker account (${missing.length} new)\n`);
  }
  if (planned.some((p) => !credentials.get(p.spec.serial)?.username)) await useFleetAccount();
  const fleet = await startRealtimeFleet(planned, {
    seed,
    intervalSeconds,
    log: (m) => process.stderr.write(`${m}\n`),
    credentials: (p) => {
      const own = credentials.get(p.spec.serial);
      return own?.username
        ? { url: fleetAccount.url, username: own.username, password: own.password ?? '' }
        : fleetAccount;
    },
  });
  process.stderr.write(`fleet: ${planned.length} inverters publishing every ${intervalSeconds} s (Ctrl-C to stop)\n`);
  let ticks = 0;
  const timer = setInterval(() => {
    const ms = fleet.tick(Date.now());
    ticks += 1;
    if (ticks % Math.max(1, Math.round(60 / intervalSeconds)) === 0)
      process.stderr.write(`fleet: tick ${ticks}, ${planned.length} readings simulated in ${ms.toFixed(0)} ms\n`);
  }, intervalSeconds * 1000);
  fleet.tick(Date.now());
  const stop = async () => {
    clearInterval(timer);
    await fleet.stop();
    fleet.model.truth.write(truthPath);
    process.stderr.write(`fleet stopped; ground truth ${truthPath}\n`);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  if (values.duration) setTimeout(() => void stop(), positiveNumber(values.duration, 'duration', 60) * 1000);
}

const MODBUS_OPTIONS = {
  scenario: { type: 'string' },
  inverters: { type: 'string' },
  prefix: { type: 'string', default: 'MB' },
  province: { type: 'string', default: 'Tehran' },
  kwp: { type: 'string' },
  interval: { type: 'string' },
  seed: { type: 'string' },
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string', default: '1502' },
  profiles: { type: 'string', default: 'int,float,der' },
  bases: { type: 'string', default: '40000' },
  rtu: { type: 'string' },
  'rtu-unit': { type: 'string', default: '1' },
  baud: { type: 'string', default: '9600' },
  from: { type: 'string' },
  speed: { type: 'string' },
  truth: { type: 'string' },
  duration: { type: 'string' },
} as const;

function listOption<T>(text: string, name: string, parse: (item: string) => T | undefined, allowed: string): T[] {
  const items = text.split(',').map((item) => item.trim());
  const parsed = items.map(parse);
  const bad = items.find((_, i) => parsed[i] === undefined);
  if (bad !== undefined || items.length === 0) usage(`--${name}: '${bad}' is not one of ${allowed}`);
  return parsed as T[];
}

async function modbusCommand({ values }: Parsed<typeof MODBUS_OPTIONS>): Promise<void> {
  const scenario = values.scenario
    ? loadScenario(values.scenario)
    : generatedFleet({
        count: positiveNumber(values.inverters, 'inverters', 4),
        prefix: values.prefix!,
        province: values.province!,
        dcKwp: positiveNumber(values.kwp, 'kwp', 5),
      });
  const planned = planFleet(scenario);
  const seed = values.seed !== undefined ? positiveNumber(values.seed, 'seed', 1) : (scenario.seed ?? 1);
  const intervalSeconds = positiveNumber(values.interval, 'interval', scenario.intervalSeconds ?? 10);
  const speed = positiveNumber(values.speed, 'speed', 1);
  const port = positiveNumber(values.port, 'port', 1502);
  if (!Number.isInteger(port) || port > 65535) usage('--port must be a TCP port (1-65535)');
  const profiles = listOption(
    values.profiles!,
    'profiles',
    (p) => (MODBUS_PROFILES.includes(p) ? p : undefined),
    MODBUS_PROFILES.join(', '),
  );
  const bases = listOption(
    values.bases!,
    'bases',
    (b) => ([40000, 50000, 0] as number[]).find((x) => String(x) === b),
    '40000, 50000, 0',
  );
  const rtuUnit = positiveNumber(values['rtu-unit'], 'rtu-unit', 1);
  if (!Number.isInteger(rtuUnit) || rtuUnit > 247) usage('--rtu-unit must be a Modbus unit id (1-247)');
  const fromMs = instant(values.from, 'from', Date.now());
  const truthPath =
    values.truth ?? join(process.env.SOLAR_DATA_DIR ?? '.data/run', 'simulator', 'modbus-ground-truth.json');
  mkdirSync(dirname(truthPath), { recursive: true });
  const fleet = new ModbusFleet(planned, {
    seed,
    intervalSeconds,
    profiles,
    bases,
    tcp: { host: values.host!, port },
    ...(values.rtu
      ? { rtu: { path: values.rtu, unitId: rtuUnit, baudRate: positiveNumber(values.baud, 'baud', 9600) } }
      : {}),
    fromMs,
  });
  // Simulated time runs `speed` times faster than the wall clock, on the interval's grid.
  const realStart = Date.now();
  const stepMs = intervalSeconds * 1000;
  const simNow = () => fromMs + Math.floor(((Date.now() - realStart) * speed) / stepMs) * stepMs;
  fleet.advanceTo(fromMs);
  await fleet.start();
  for (const inverter of fleet.inverters)
    process.stderr.write(
      `modbus: ${inverter.planned.spec.serial}  ` +
        `${inverter.transport === 'tcp' ? `tcp://${values.host}:${port}` : `rtu ${values.rtu}`}  unit ` +
        `${inverter.unitId}  ${inverter.device.describe}  ${inverter.planned.spec.ratedAcW} W\n`,
    );
  process.stderr.write(
    `modbus: ${planned.length} simulated Modbus inverters, registers updated every ${intervalSeconds} simulated s` +
      `${speed !== 1 ? ` (${speed}× real time)` : ''} (Ctrl-C to stop)\n`,
  );
  const timer = setInterval(() => fleet.advanceTo(simNow()), Math.max(50, Math.min(1000, stepMs / speed)));
  const stop = async () => {
    clearInterval(timer);
    await fleet.stop();
    fleet.model.truth.write(truthPath);
    process.stderr.write(`modbus stopped; ground truth ${truthPath}\n`);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  if (values.duration) setTimeout(() => void stop(), positiveNumber(values.duration, 'duration', 60) * 1000);
}

const YIELD_OPTIONS = {
  province: { type: 'string' },
  lat: { type: 'string' },
  lon: { type: 'string' },
  kwp: { type: 'string' },
  tilt: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  seed: { type: 'string' },
} as const;

function yieldCommand({ values }: Parsed<typeof YIELD_OPTIONS>): void {
  let latitude: number;
  let longitude: number;
  let name: string;
  let climate = DEFAULT_CLIMATE;
  if (values.province) {
    const p = loadProvinces().find((x) =>
      [x.nameEn.toLowerCase(), x.code, x.capitalEn.toLowerCase()].includes(values.province!.toLowerCase()),
    );
    if (!p) usage(`unknown province '${values.province}'`);
    ({ latitude, longitude } = p);
    name = `${p.capitalEn}, ${p.nameEn}`;
    climate = PROVINCE_CLIMATE[p.nameEn] ?? DEFAULT_CLIMATE;
  } else if (values.lat !== undefined && values.lon !== undefined) {
    latitude = Number(values.lat);
    longitude = Number(values.lon);
    name = `${latitude},${longitude}`;
    if (!(Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180))
      usage('--lat must be within ±90 and --lon within ±180');
  } else usage('give --province NAME or --lat and --lon (see --help)');
  const year = new Date().getUTCFullYear() - 1;
  const fromMs = instant(values.from, 'from', Date.UTC(year, 0, 1));
  const toMs = instant(values.to, 'to', Date.UTC(year + 1, 0, 1));
  if (fromMs >= toMs) usage('--from must be before --to');
  const dcKwp = positiveNumber(values.kwp, 'kwp', 5);
  const tiltDeg = values.tilt !== undefined ? Number(values.tilt) : Math.round(Math.abs(latitude));
  const result = expectedYield(
    { id: name, latitude, longitude, climate },
    { dcKwp, ratedAcW: dcKwp * 1000, tiltDeg, surfaceAzimuthDeg: latitude >= 0 ? 180 : 0 },
    fromMs,
    toMs,
    positiveNumber(values.seed, 'seed', 1),
  );
  console.log(
    `${name}: ${dcKwp} kWp, tilt ${tiltDeg}°, ${new Date(fromMs).toISOString().slice(0, 10)} to ${new Date(toMs).toISOString().slice(0, 10)}`,
  );
  console.log(`  ${result.kwh.toFixed(0)} kWh, ${result.kwhPerKwp.toFixed(0)} kWh/kWp`);
  console.log(
    'BENCH',
    JSON.stringify({
      name: 'yield',
      site: name,
      kwp: dcKwp,
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      kwh: Math.round(result.kwh),
      kwh_per_kwp: Math.round(result.kwhPerKwp),
    }),
  );
}

const COMMISSION_OPTIONS = {
  serial: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  timeout: { type: 'string' },
  readings: { type: 'string' },
} as const;

async function commissionCommand({ values }: Parsed<typeof COMMISSION_OPTIONS>): Promise<void> {
  if (!values.serial) throw new UsageError('--serial is required');
  const fleetAccount = readMqttConfig(process.env, 'FLEET');
  if (values.username === undefined) await useFleetAccount();
  const report = await commission({
    serial: values.serial,
    credentials: {
      url: fleetAccount.url,
      username: values.username ?? fleetAccount.username,
      password: values.password ?? fleetAccount.password,
    },
    influx: new InfluxClient(readInfluxConfig(process.env, 'READER')),
    databaseUrl: readDatabaseUrl(process.env),
    timeoutMs: positiveNumber(values.timeout, 'timeout', 60) * 1000,
    readings: positiveNumber(values.readings, 'readings', 5),
  });
  for (const check of report.checks)
    console.log(`${check.ok ? 'PASS' : 'FAIL'}  ${check.name}${check.detail ? ` — ${check.detail}` : ''}`);
  console.log(report.ok ? `commissioning of ${values.serial}: PASSED` : `commissioning of ${values.serial}: FAILED`);
  if (!report.ok) throw new Refusal(`commissioning of ${values.serial} failed`);
}

await main({
  invocation: 'npm run sim --',
  commands: {
    fleet: command({
      summary: 'run simulated inverters in real time, or backfill a past period',
      help: `Usage: npm run sim -- fleet [options]

  --scenario FILE     inverters and faults from a scenario file (simulators/README.md)
  --inverters N       or generate N inverters (default 100)
  --prefix TEXT       serial prefix for generated inverters (default SIM)
  --province NAME     province of generated inverters, or 'all' to spread them (default all)
  --kwp N             DC size of generated inverters, kWp (default 5; AC = same in kW)
  --interval S        seconds between readings (default 10 real time, 300 backfill)
  --seed N            weather seed (default 1)
  --register          add the inverters to the registry so ingest accepts them, each installation
                      with a demo support contract (30,000 Rial/kWh) so billing prices it
  --provision         real time: give every inverter its own broker account (publish under its own
                      serial only), made through the broker's dynamic security; re-keyed each run
  --backfill          simulate --from..--to as fast as the broker accepts (QoS 1)
  --from, --to        RFC 3339 period for --backfill (default: the last 24 hours)
  --truth FILE        where to write the ground truth (default .data/<profile>/simulator/ground-truth.json)
  --duration S        real time: stop after S seconds (default: until Ctrl-C)
  --continue-counters real time: each inverter's lifetime counter continues from its latest stored
                      reading, as a real one's does across restarts (npm start uses it)

Each inverter connects with its own credentials from the scenario (or --provision), else with the
fleet account (MQTT_FLEET_USERNAME), which is then made first through the broker's administration
account if missing (remove it with npm run ops -- fleet-account remove). Progress and rates go to stderr.`,
      options: FLEET_OPTIONS,
      run: fleetCommand,
    }),
    modbus: command({
      summary: 'serve simulated inverters as Modbus TCP devices, SunSpec or a vendor map (and one on Modbus RTU)',
      help: `Usage: npm run sim -- modbus [options]

  --scenario FILE     inverters and faults from a scenario file (simulators/README.md)
  --inverters N       or generate N inverters (default 4), --prefix (MB), --province (Tehran), --kwp (5)
  --host H, --port P  the Modbus TCP server (default 127.0.0.1:1502); inverter k answers unit id k
  --profiles LIST     what each device speaks, cycled over the inverters: SunSpec int (103 with
                      scale factors), float (113), der (701 alone), or a vendor register map
                      (huawei-sun2000) (default int,float,der)
  --bases LIST        where the SunS marker is, cycled: 40000, 50000, 0 (default 40000)
  --rtu PATH          serve the last inverter over Modbus RTU on this serial device instead
                      (e.g. one end of a socat pty pair), unit --rtu-unit (1), --baud (9600)
  --interval S        simulated seconds between register updates (default 10)
  --from TIME         simulated start (RFC 3339; default now), --speed N simulated s per real s (1)
  --seed N            weather seed (default 1)
  --truth FILE        ground truth on stop (default .data/<profile>/simulator/modbus-ground-truth.json)
  --duration S        stop after S real seconds (default: until Ctrl-C)

A SunSpec inverter has models 1 (its serial), 120 (its rating) and its inverter model; a
vendor-map inverter answers that vendor's register table (lib/registers/maps). Faults
offline and power_outage make it stop answering (Modbus exception 0B). For a bench without an
inverter: point a gateway (gateway/README.md) at the printed address and unit ids.`,
      options: MODBUS_OPTIONS,
      run: modbusCommand,
    }),
    yield: command({
      summary: 'expected energy for a site and system over a period',
      help: `Usage: npm run sim -- yield (--province NAME | --lat X --lon Y) [options]

  --kwp N         DC size, kWp (default 5)
  --tilt DEG      tilt (default: the latitude), facing the equator
  --from, --to    period (default: the last full calendar year)
  --seed N        weather seed (default 1)

Prints kWh and kWh/kWp, then a line BENCH {"name":"yield",...}.`,
      options: YIELD_OPTIONS,
      run: yieldCommand,
    }),
    commission: command({
      summary: "test a real or simulated inverter's credentials and data path end to end",
      help: `Usage: npm run sim -- commission --serial SERIAL [--username U] [--password P] [options]

  --timeout S     how long to wait for the platform (default 60)
  --readings N    test readings to publish (default 5)

Connects as the inverter (without --username: as the fleet account, made first if missing),
publishes its status and a short burst, and checks that the platform stored them under the right
installation. Exit code 0 when every check passes.`,
      options: COMMISSION_OPTIONS,
      run: commissionCommand,
    }),
  },
});
