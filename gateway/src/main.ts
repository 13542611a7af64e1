// The gateway's command line:  npm run gateway -- run|status --config FILE
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { command, main, type Parsed, positiveNumber, UsageError } from '../../lib/cli';
import { createLogger, redactSecrets } from '../../lib/logger';
import { commission } from './commission';
import { type GatewayConfig, loadGatewayConfig } from './config';
import type { LinkConfig } from './modbus/connection';
import { Gateway, type GatewayClock } from './gateway';
import { Outbox } from './outbox';

const OPTIONS = { config: { type: 'string' } } as const;
const configPath = (values: { config?: string }) => {
  const path = values.config ?? process.env.GATEWAY_CONFIG;
  if (!path) throw new UsageError('--config FILE (or GATEWAY_CONFIG) is required');
  return path;
};

/**
 * GATEWAY_SIM_CLOCK=startMs,anchorMs,speed runs the gateway on simulated time (startMs at the wall
 * clock's anchorMs, `speed` times faster), for a bench or a test against the fast-forwarded Modbus
 * simulator: it survives a restart, since every incarnation computes the same time.
 */
function clockFromEnvironment(): { clock?: GatewayClock; speed: number } {
  const spec = process.env.GATEWAY_SIM_CLOCK;
  if (!spec) return { speed: 1 };
  const [startMs, anchorMs, speed] = spec.split(',').map(Number) as [number, number, number];
  if (![startMs, anchorMs, speed].every((n) => Number.isFinite(n) && n > 0))
    throw new UsageError(`GATEWAY_SIM_CLOCK must be startMs,anchorMs,speed, got '${spec}'`);
  return {
    clock: { wallMs: () => startMs + (Date.now() - anchorMs) * speed, monoMs: () => performance.now() * speed },
    speed,
  };
}

async function run({ values }: Parsed<typeof OPTIONS>): Promise<void> {
  const config = loadGatewayConfig(configPath(values));
  const log = createLogger('gateway');
  const { clock, speed } = clockFromEnvironment();
  const gateway = new Gateway(config, {
    ...(clock ? { clock } : {}),
    pollIntervalMs: (config.pollSeconds * 1000) / speed,
    log: (level, message) => log[level](message),
  });
  const statusFile = join(config.outbox.dir, 'status.json');
  const writeStatus = () =>
    writeFileSync(
      statusFile,
      JSON.stringify({
        at: new Date().toISOString(),
        settings: {
          pollSeconds: config.pollSeconds,
          outboxMaxBytes: config.outbox.maxBytes,
          reconnectWindowS: gateway.reconnectSpreadMs / 1000,
          catchUpReadingsPerSecond: gateway.catchUpPace.readingsPerSecond,
        },
        connected: gateway.publisher.connected,
        // Ingest confirms what it stored; until then the readings stay in the outbox.
        confirming: gateway.publisher.confirming,
        unconfirmedReadings: gateway.publisher.unconfirmedReadings,
        lastError: gateway.publisher.lastError,
        time: {
          trusted: gateway.time.trusted,
          source: gateway.time.source.describe,
          problem: gateway.time.lastProblem,
          rate: gateway.time.measuredRate,
        },
        ...gateway.counts,
        ...gateway.publisher.counts,
        outbox: gateway.outbox.stats(),
        memoryMb: Object.fromEntries(
          Object.entries(process.memoryUsage()).map(([k, v]) => [k, Math.round(v / 104_857.6) / 10]),
        ),
      }),
      { mode: 0o600 },
    );
  const statusTimer = setInterval(writeStatus, 5000);
  gateway.start();
  log.info(
    `gateway ${config.gatewayId}: ${config.links.reduce((n, l) => n + l.inverters.length, 0)} inverters every ` +
      `${config.pollSeconds} s, outbox ${config.outbox.dir} (up to ${config.outbox.maxBytes} bytes), reconnects ` +
      `spread over ${gateway.reconnectSpreadMs / 1000} s (a fleet of ${config.fleet.gateways})`,
  );
  const stop = async () => {
    clearInterval(statusTimer);
    await gateway.stop();
    writeStatus();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

function status({ values }: Parsed<typeof OPTIONS>): void {
  const config = loadGatewayConfig(configPath(values));
  const outbox = Outbox.open({ dir: config.outbox.dir, maxBytes: config.outbox.maxBytes, segmentBytes: 1 << 20 });
  const stats = outbox.stats();
  outbox.close();
  console.log(`gateway ${config.gatewayId}, broker ${redactSecrets(config.broker.url)}`);
  console.log(`  outbox: ${stats.pendingReadings} readings waiting, ${stats.bytes} of ${config.outbox.maxBytes} bytes`);
  console.log(
    `  dropped (outbox full): ${stats.droppedReadings} readings; damaged records skipped: ${stats.corruptRecords}`,
  );
}

const COMMISSION_OPTIONS = {
  id: { type: 'string' },
  tcp: { type: 'string' },
  rtu: { type: 'string' },
  baud: { type: 'string', default: '9600' },
  units: { type: 'string', default: '1-10' },
  map: { type: 'string' },
  api: { type: 'string' },
  'api-user': { type: 'string' },
  'api-ca': { type: 'string' },
  broker: { type: 'string' },
  ca: { type: 'string' },
  out: { type: 'string', default: '/etc/solar-gateway/gateway.json' },
  outbox: { type: 'string', default: '/var/lib/solar-gateway/outbox' },
  poll: { type: 'string', default: '10' },
  time: { type: 'string', default: 'ntp' },
  'dry-run': { type: 'boolean', default: false },
} as const;

/** `1-10`, `1,3,5` or `2-4,7`: Modbus unit ids. */
function unitIds(text: string): number[] {
  const ids = text.split(',').flatMap((part) => {
    const [from, to = from] = part.split('-').map((n) => Number(n.trim()));
    if (!Number.isInteger(from) || !Number.isInteger(to) || from! < 0 || to! > 255 || from! > to!)
      throw new UsageError(`--units: '${part}' is not a unit id or range within 0-255 (e.g. 1-10 or 1,3,5)`);
    return Array.from({ length: to! - from! + 1 }, (_, i) => from! + i);
  });
  return [...new Set(ids)];
}

async function commissionCommand({ values }: Parsed<typeof COMMISSION_OPTIONS>): Promise<void> {
  const required = (name: 'id' | 'api' | 'broker' | 'ca', value: string | undefined) => {
    if (!value) throw new UsageError(`--${name} is required`);
    return value;
  };
  if (!values.tcp === !values.rtu) throw new UsageError('give the bus: --tcp HOST:PORT or --rtu /dev/ttyUSB0');
  let link: LinkConfig;
  if (values.tcp) {
    const m = /^([^:]+):(\d{1,5})$/.exec(values.tcp);
    if (!m) throw new UsageError(`--tcp must be HOST:PORT (e.g. 192.168.1.20:502), got '${values.tcp}'`);
    link = { kind: 'tcp', host: m[1]!, port: Number(m[2]) };
  } else link = { kind: 'rtu', path: values.rtu!, baudRate: positiveNumber(values.baud, 'baud', 9600) };
  const username = values['api-user'] ?? process.env.GATEWAY_API_USER;
  const password = process.env.GATEWAY_API_PASSWORD;
  if (!username || !password)
    throw new UsageError(
      'the technician account: --api-user (or GATEWAY_API_USER) and GATEWAY_API_PASSWORD in the environment',
    );
  const time = values.time!;
  const timeConfig: GatewayConfig['time'] =
    time === 'ntp' || time === 'system'
      ? { source: time }
      : /^https:\/\//.test(time)
        ? { source: 'https', url: time }
        : (() => {
            throw new UsageError(`--time must be ntp, system or an https:// URL, got '${time}'`);
          })();
  const apiCa = values['api-ca'];
  const { ok, steps } = await commission({
    gatewayId: required('id', values.id),
    link,
    units: unitIds(values.units!),
    ...(values.map ? { map: values.map } : {}),
    api: { url: required('api', values.api), username, password, ...(apiCa ? { ca: readFileSync(apiCa) } : {}) },
    broker: { url: required('broker', values.broker), caFile: required('ca', values.ca) },
    configPath: values.out!,
    outboxDir: values.outbox!,
    pollSeconds: positiveNumber(values.poll, 'poll', 10),
    time: timeConfig,
    dryRun: values['dry-run'] === true,
    onStep: (s) => {
      console.log(`${s.ok ? '[ok]  ' : '[FAIL]'} ${s.name}: ${s.detail}`);
      if (!s.ok && s.fix) console.log(`       fix: ${s.fix}`);
    },
  });
  console.log(
    ok
      ? `gateway ${values.id} commissioned (${steps.length} checks passed)`
      : 'commissioning stopped: fix the failed check and run it again',
  );
  if (!ok) process.exitCode = 1;
}

await main({
  invocation: 'npm run gateway --',
  commands: {
    run: command({
      summary: 'poll the configured inverters and publish their readings (until stopped)',
      help: `Usage: npm run gateway -- run --config FILE

Reads every inverter of FILE (gateway/README.md: the format) every pollSeconds, keeps the readings
in the outbox on disk and publishes them over MQTT/TLS when the broker is reachable. Logs are JSON
lines on stdout; <outbox>/status.json is rewritten every 5 s.`,
      options: OPTIONS,
      run,
    }),
    commission: command({
      summary: 'scan the bus, check the inverters against the registry, provision, write the configuration, test',
      help: `Usage: npm run gateway -- commission --id SITE --tcp HOST:PORT | --rtu PATH [options]

A checklist, stopping at the first failed check with what to fix:
  scan           unit ids --units (1-10) on the bus: each inverter's serial, model and rating
                 (SunSpec models 1 and 120, or --map huawei-sun2000 / a map file)
  registry       each serial registered and active on the platform, its rating agrees
  provision      the gateway's broker account for exactly these inverters (a new password)
  configuration  written to --out (/etc/solar-gateway/gateway.json), mode 600
  test publish   one poll published over MQTT/TLS
  stored         the platform stored each inverter's reading

  --api URL          the platform's API (--api-ca FILE for its CA); the technician account:
                     --api-user NAME (or GATEWAY_API_USER), password in GATEWAY_API_PASSWORD
  --broker URL       mqtts://host:8883, --ca FILE: the CA of the broker's certificate
  --baud N           for --rtu (9600); --poll S (10); --outbox DIR (/var/lib/solar-gateway/outbox)
  --time ntp|system|https://...   where the gateway learns the time (gateway/README.md)
  --dry-run          scan and check the registry only: nothing provisioned or written`,
      options: COMMISSION_OPTIONS,
      run: commissionCommand,
    }),
    status: command({
      summary: "the outbox's state: readings waiting, bytes used, readings dropped",
      help: 'Usage: npm run gateway -- status --config FILE',
      options: OPTIONS,
      run: status,
    }),
  },
});
