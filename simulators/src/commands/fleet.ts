// npm run sim -- fleet: simulated inverters on the wire, in real time (each with its own broker
// account with --provision, else the fleet account) or as a backfill of a past period, with the
// ground truth written when they stop.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import mqtt from 'mqtt';
import pg from 'pg';
import { command, instant, type Parsed, positiveNumber, progress, usage } from '../../../lib/cli';
import { readDatabaseUrl, readInfluxConfig, readMqttConfig } from '../../../lib/config';
import { InfluxClient } from '../../../lib/influx/client';
import { rebuildRollups } from '../../../lib/influx/layout';
import { BrokerAdmin } from '../../../lib/mqtt/broker-admin';
import { endClient } from '../../../lib/mqtt/end-client';
import { provisionDevices } from '../../../lib/mqtt/device-accounts';
import { ensureFleetAccount, fleetAccountNote } from '../../../lib/mqtt/service-accounts';
import { runBackfill, startRealtimeFleet } from '../fleet';
import { addDemoContracts, registerSimulatedFleet } from '../registry';
import { stopOnSignalOrDuration } from './stop-fleet';
import { generatedFleet, loadScenario, planFleet } from '../scenario';
import { epochCounters, storedAfter } from '../stored-counters';

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
export async function useFleetAccount(): Promise<void> {
  process.stderr.write(`${fleetAccountNote(process.env, await ensureFleetAccount(process.env))}\n`);
}

/** --from..--to of a backfill (default the last 24 hours). */
function backfillPeriod(values: Parsed<typeof FLEET_OPTIONS>['values']): { fromMs: number; toMs: number } {
  const toMs = instant(values.to, 'to', Math.floor(Date.now() / 60_000) * 60_000);
  const fromMs = instant(values.from, 'from', toMs - 86_400_000);
  if (fromMs >= toMs) usage('--from must be before --to');
  return { fromMs, toMs };
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
  const period = values.backfill ? backfillPeriod(values) : null;
  if (values['continue-counters']) {
    const influx = new InfluxClient(readInfluxConfig(process.env, 'READER'));
    const db = new pg.Client({ connectionString: readDatabaseUrl(process.env) });
    await db.connect();
    const epochs = await epochCounters(influx, db, { atOrBeforeMs: period?.fromMs }).finally(() => db.end());
    // A backfill goes on from the counter stored before its period; stored readings after its start
    // would put its counters between them, below later ones: counters no inverter produced. A
    // replacement recorded after its start would carry the old counter into the new one's epoch.
    const later = period ? await storedAfter(influx, period.fromMs) : new Set<string>();
    const crossing = (serial: string) => {
      const epoch = epochs.get(serial);
      return later.has(serial) || (period !== null && epoch?.from === 'replacement' && epoch.atMs > period.fromMs);
    };
    const overlapping = scenario.inverters.filter((i) => crossing(i.serial)).map((i) => i.serial);
    if (overlapping.length > 0)
      usage(
        `--continue-counters: ${overlapping.length} inverters (${overlapping.slice(0, 3).join(', ')}) have readings ` +
          'stored or a replacement recorded after --from; backfill from after the newest of them',
      );
    for (const inverter of scenario.inverters) {
      const epoch = epochs.get(inverter.serial);
      if (epoch?.wh === null)
        process.stderr.write(
          `--continue-counters: ${inverter.serial} was replaced at ${new Date(epoch.atMs).toISOString()} without its new ` +
            `counter recorded: its counter starts at the scenario's ${inverter.initialCounterWh ?? 0} Wh ` +
            "(billing counts nothing of an unknown new counter's first reading)\n",
        );
      inverter.initialCounterWh = epoch?.wh ?? inverter.initialCounterWh;
    }
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

  if (period) {
    const { fromMs, toMs } = period;
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
    await Promise.all(clients.map((c) => endClient(c, 5000))); // everything is acknowledged: at once, unless the broker froze
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
  stopOnSignalOrDuration('fleet', fleet, timer, truthPath, values.duration);
}

export default command({
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
  --continue-counters each inverter's lifetime counter continues from its latest stored reading, as a
                      real one's does across restarts (npm start uses it), or after a replacement
                      recorded since (npm run billing -- replace), from the new counter recorded with
                      it; with --backfill, as of --from (refused if readings are stored or a
                      replacement is recorded after --from)

Each inverter connects with its own credentials from the scenario (or --provision), else with the
fleet account (MQTT_FLEET_USERNAME), which is then made first through the broker's administration
account if missing (remove it with npm run ops -- fleet-account remove). Progress and rates go to stderr.`,
  options: FLEET_OPTIONS,
  run: fleetCommand,
});
