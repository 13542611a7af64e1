// The gateway's command line:  npm run gateway -- run|status --config FILE
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { command, main, type Parsed, UsageError } from '../../lib/cli';
import { createLogger } from '../../lib/logger';
import { loadGatewayConfig } from './config';
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
        connected: gateway.publisher.connected,
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
      }),
      { mode: 0o600 },
    );
  const statusTimer = setInterval(writeStatus, 5000);
  gateway.start();
  log.info(
    `gateway ${config.gatewayId}: ${config.links.reduce((n, l) => n + l.inverters.length, 0)} inverters every ${config.pollSeconds} s, outbox ${config.outbox.dir}`,
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
  console.log(`gateway ${config.gatewayId}, broker ${config.broker.url}`);
  console.log(`  outbox: ${stats.pendingReadings} readings waiting, ${stats.bytes} of ${config.outbox.maxBytes} bytes`);
  console.log(
    `  dropped (outbox full): ${stats.droppedReadings} readings; damaged records skipped: ${stats.corruptRecords}`,
  );
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
    status: command({
      summary: "the outbox's state: readings waiting, bytes used, readings dropped",
      help: 'Usage: npm run gateway -- status --config FILE',
      options: OPTIONS,
      run: status,
    }),
  },
});
