// What billing's commands share: a month from the command line (default: the current one), checked,
// with the settings and connections to bill it, closed afterwards; the actor they audit as; Rials.
import { cliActor } from '../../../lib/audit';
import { UsageError } from '../../../lib/cli';
import { createPool } from '../../../lib/db';
import { InfluxClient } from '../../../lib/influx/client';
import { createLogger } from '../../../lib/logger';
import { monthOf, parseMonth } from '../../../lib/program/solar-hijri';
import { readBillingConfig } from '../config';
import type { BillingDeps } from '../run-month';

/** The month argument (default: the current one), checked; the settings and connections to bill it. */
export function setUp({ positionals }: { positionals: string[] }, required: boolean, monthArgs = 1) {
  const [monthArg] = positionals;
  if (positionals.length > monthArgs) throw new UsageError(`unexpected argument '${positionals[monthArgs]}'`);
  if (required && !monthArg) throw new UsageError('MONTH is required');
  const month = monthArg ?? monthOf(Date.now());
  try {
    parseMonth(month);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const config = readBillingConfig(process.env);
  // One-off commands print their own summary; their log lines are for warnings (LOG_LEVEL overrides).
  const log = createLogger('billing', process.env.LOG_LEVEL ?? 'warn');
  const pool = createPool({ connectionString: config.databaseUrl, max: 4 }, log);
  const deps: BillingDeps = { pool, influx: new InfluxClient(config.influx), config, log };
  return { month, config, pool, deps };
}

/** Runs `work` with the month's connections, closing them afterwards. */
export async function withMonth(
  args: { positionals: string[] },
  required: boolean,
  work: (m: ReturnType<typeof setUp>) => Promise<void>,
  monthArgs = 1,
) {
  const m = setUp(args, required, monthArgs);
  try {
    await work(m);
  } finally {
    await m.pool.end();
  }
}

export const actor = cliActor();
export const rials = (value: bigint | string) => `${BigInt(value).toLocaleString('en-US')} Rials`;
/** payout and sms: where to write the file. */
export const PAYOUT_OPTIONS = { out: { type: 'string' } } as const;
