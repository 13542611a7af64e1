// npm run sim -- commission: a real or simulated inverter's credentials and data path tested end to
// end (its status and a short burst published, found stored under the right installation).
import { command, type Parsed, positiveNumber, Refusal, UsageError, wholeWh } from '../../../lib/cli';
import { readDatabaseUrl, readInfluxConfig, readMqttConfig } from '../../../lib/config';
import { InfluxClient } from '../../../lib/influx/client';
import { parseDurationMs } from '../../../lib/influx/duration';
import { commission } from '../commission';
import { useFleetAccount } from './fleet';

const COMMISSION_OPTIONS = {
  serial: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  timeout: { type: 'string' },
  readings: { type: 'string' },
  'counter-wh': { type: 'string' },
} as const;

async function commissionCommand({ values }: Parsed<typeof COMMISSION_OPTIONS>): Promise<void> {
  if (!values.serial) throw new UsageError('--serial is required');
  // Every option is checked before anything is done (the fleet account made).
  const counterWh = wholeWh(values['counter-wh'], 'counter-wh');
  const timeoutMs = positiveNumber(values.timeout, 'timeout', 60) * 1000;
  const readings = positiveNumber(values.readings, 'readings', 5);
  const fleetAccount = readMqttConfig(process.env, 'FLEET');
  const influxConfig = readInfluxConfig(process.env, 'READER');
  if (values.username === undefined) await useFleetAccount();
  const report = await commission({
    serial: values.serial,
    credentials: {
      url: fleetAccount.url,
      username: values.username ?? fleetAccount.username,
      password: values.password ?? fleetAccount.password,
    },
    influx: new InfluxClient(influxConfig),
    rawRetentionMs: parseDurationMs(influxConfig.rawRetention),
    databaseUrl: readDatabaseUrl(process.env),
    timeoutMs,
    readings,
    counterWh,
  });
  for (const check of report.checks)
    console.log(`${check.ok ? 'PASS' : 'FAIL'}  ${check.name}${check.detail ? ` — ${check.detail}` : ''}`);
  console.log(report.ok ? `commissioning of ${values.serial}: PASSED` : `commissioning of ${values.serial}: FAILED`);
  if (!report.ok) throw new Refusal(`commissioning of ${values.serial} failed`);
}

export default command({
  summary: "test a real or simulated inverter's credentials and data path end to end",
  help: `Usage: npm run sim -- commission --serial SERIAL [--username U] [--password P] [options]

  --timeout S     how long to wait for the platform (default 60)
  --readings N    test readings to publish (default 5)
  --counter-wh N  the inverter's lifetime counter, whole Wh (its display's kWh × 1000; 0 for a new one),
                  required for a counter the platform does not know: a serial that never reported,
                  or one replaced without its new counter recorded (npm run billing -- replace ...
                  --initial-wh) that has not reported since; refused where the platform knows it

Connects as the inverter (without --username: as the fleet account, made first if missing),
publishes its status and a short burst, and checks that the platform stored them under the right
installation. The burst continues the counter of the serial's current epoch: its latest stored
reading, or after a recorded replacement the new counter (recorded, stored since, or --counter-wh),
stamped just after the instant that counter was read at. Exit code 0 when every check passes.`,
  options: COMMISSION_OPTIONS,
  run: commissionCommand,
});
