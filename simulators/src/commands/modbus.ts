// npm run sim -- modbus: simulated inverters served as Modbus TCP devices (SunSpec models or a
// vendor's register map, and one on Modbus RTU), for a gateway to read as it reads real ones.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { command, instant, type Parsed, positiveNumber, usage } from '../../../lib/cli';
import { MODBUS_PROFILES, ModbusFleet } from '../modbus/modbus-fleet';
import { stopOnSignalOrDuration } from './stop-fleet';
import { generatedFleet, loadScenario, planFleet } from '../scenario';

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
  stopOnSignalOrDuration('modbus', fleet, timer, truthPath, values.duration);
}

export default command({
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
});
