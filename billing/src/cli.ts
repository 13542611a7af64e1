// Billing from the command line:  npm run billing -- <command> [MONTH]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { configOrExit } from '../../lib/config';
import { InfluxClient } from '../../lib/influx/client';
import { createLogger } from '../../lib/logger';
import { describeFlag, monthAttention } from './attention';
import type { ReviewDecision } from './core/counter-review';
import { monthBounds, monthOf, parseMonth } from './core/solar-hijri';
import { recordReplacement, reviewCounter } from './counter-reviews';
import { markPaid, payoutFile } from './payouts';
import { readBillingConfig } from './config';
import { BillingError } from './errors';
import { runMonth, type BillingDeps } from './run-month';
import { startScheduler } from './scheduler';
import { monthSmsCsv } from './sms-export';

const USAGE = `Usage: npm run billing -- <command> [MONTH] [options]
MONTH is a Solar Hijri month, YYYY-MM (e.g. 1405-08 = Aban 1405); the default is the current month.

Commands:
  run [MONTH]                 bill the month as a draft (replaces the previous draft; re-runnable)
  close MONTH                 bill it once more and close it: it can no longer change
  show [MONTH]                every billed month, one line each; with MONTH, its totals and the
                              installations to look at: implausible (held: they block the close)
                              and incomplete, with the readings that made them so
  review MONTH SERIAL accept|exclude|correct [--wh N] --reason TEXT
                              decide on an inverter's month held as implausible: bill what was
                              read, nothing, or N Wh (audited; the next run applies it)
  replace SERIAL --at TIME [--initial-wh N] --note TEXT
                              record a new inverter on SERIAL from TIME (ISO 8601; its counter
                              read N Wh then, if known): a new counter epoch (audited)
  payout MONTH [--out FILE]   the bank transfer batch of a closed month (CSV) and its summary
  mark-paid MONTH             record that the bank executed the batch (once)
  sms MONTH [--out FILE]      the monthly SMS of a closed month, CSV of mobile,text for the SMS gateway
  schedule                    run the daily job: draft the current month, close the previous one
                              on BILLING_CLOSE_DAY (cron BILLING_DRAFT_CRON, Tehran time)`;

const fail = (message: string, code = 2): never => {
  console.error(`error: ${message}`);
  process.exit(code);
};
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string' },
    wh: { type: 'string' },
    reason: { type: 'string' },
    at: { type: 'string' },
    'initial-wh': { type: 'string' },
    note: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
const [command, monthArg] = positionals;
if (values.help || !command) {
  console.log(USAGE);
  process.exit(command ? 0 : 2);
}
const month = command === 'replace' ? '' : (monthArg ?? monthOf(Date.now()));
try {
  if (command !== 'replace') parseMonth(month);
} catch (error) {
  fail((error as Error).message);
}
const wholeWh = (name: string, text: string | undefined): number | null => {
  if (text === undefined) return null;
  if (!/^\d{1,15}$/.test(text)) fail(`--${name}: whole Wh, e.g. 372000`);
  return Number(text);
};

const config = configOrExit(() => readBillingConfig(process.env));
const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 4 });
// One-off commands print their own summary; their log lines are for warnings (LOG_LEVEL overrides).
const logLevel = command === 'schedule' ? config.logLevel : (process.env.LOG_LEVEL ?? 'warn');
const deps: BillingDeps = {
  pool,
  influx: new InfluxClient(config.influx),
  config,
  log: createLogger('billing', logLevel),
};
const actor = `cli:${process.env.USER ?? 'unknown'}`;
const rials = (value: bigint | string) => `${BigInt(value).toLocaleString('en-US')} Rials`;

try {
  if (command === 'run' || command === 'close') {
    const summary = await runMonth(deps, month, { close: command === 'close', actor });
    const t = summary.totals;
    console.log(
      `${month}: ${summary.status.toLowerCase()} in ${summary.seconds.toFixed(1)} s (digest ${summary.digest.slice(0, 16)})`,
    );
    console.log(
      `  ${t.installations} installations, ${(t.energyWh / 1000).toLocaleString('en-US')} kWh, gross ${rials(t.grossRials)}, net ${rials(t.netRials)}, program pool ${rials(t.poolRials)}`,
    );
    const running =
      Date.now() < monthBounds(month).endMs ? ' (the month is still running: no readings after its end yet)' : '';
    console.log(
      `  ${t.beneficiaries} statements, payable ${rials(t.payableRials)}; ${summary.adjustments} late-data adjustments; ${t.incomplete} installations with incomplete data${running}; ${t.implausible} implausible (held: see show ${month})`,
    );
  } else if (command === 'show' && monthArg === undefined) {
    const { rows } = await pool.query(
      `SELECT month, status, installations, beneficiaries, energy_wh, gross_rials, payable_rials, incomplete, implausible FROM billing_months ORDER BY month`,
    );
    if (rows.length === 0) fail('no month has been billed yet; run: npm run billing -- run', 1);
    for (const row of rows)
      console.log(
        `${row.month}  ${row.status.toLowerCase().padEnd(6)}  ${String(row.installations).padStart(6)} installations  ${(Number(row.energy_wh) / 1000).toLocaleString('en-US', { maximumFractionDigits: 0 }).padStart(12)} kWh  gross ${rials(row.gross_rials).padStart(24)}  payable ${rials(row.payable_rials).padStart(24)} to ${row.beneficiaries} people${row.incomplete > 0 ? `  (${row.incomplete} incomplete)` : ''}${row.implausible > 0 ? `  (${row.implausible} implausible, held)` : ''}`,
      );
  } else if (command === 'show') {
    const m = await pool.query('SELECT * FROM billing_months WHERE month = $1', [month]);
    if (!m.rows[0]) fail(`${month} has not been billed; run: npm run billing -- run ${month}`, 1);
    const row = m.rows[0];
    console.log(
      `${month}: ${row.status.toLowerCase()}, computed ${row.computed_at.toISOString()}${row.closed_at ? `, closed ${row.closed_at.toISOString()} by ${row.closed_by}` : ''}`,
    );
    console.log(
      `  ${row.installations} installations, ${(Number(row.energy_wh) / 1000).toLocaleString('en-US')} kWh, gross ${rials(row.gross_rials)}, net ${rials(row.net_rials)}, pool ${rials(row.pool_rials)}, payable ${rials(row.payable_rials)}`,
    );
    console.log(`  ${row.implausible} implausible (held), ${row.incomplete} with incomplete data`);
    const attention = await monthAttention(pool, month, { limit: 50, offset: 0 });
    for (const a of attention.rows) {
      console.log(
        `  ${a.code} (${a.province}): ${a.implausible ? 'IMPLAUSIBLE, held' : ''}${a.implausible && a.incomplete ? '; ' : ''}${a.incomplete ? 'incomplete' : ''}`,
      );
      for (const inv of a.inverters) {
        const decided = inv.review
          ? ` [decided: ${String(inv.review.decision).toLowerCase()} by ${String(inv.review.decidedBy)}]`
          : '';
        for (const flag of inv.flags) console.log(`    ${inv.serial}: ${describeFlag(flag)}${decided}`);
      }
    }
    if (attention.total > attention.rows.length)
      console.log(`  … and ${attention.total - attention.rows.length} more (API: /billing/months/${month}/attention)`);
  } else if (command === 'review') {
    const [, , serial, decisionText] = positionals;
    const decision = decisionText?.toUpperCase() as ReviewDecision;
    if (!serial || !['ACCEPT', 'EXCLUDE', 'CORRECT'].includes(decision))
      fail('usage: review MONTH SERIAL accept|exclude|correct [--wh N] --reason TEXT');
    await reviewCounter(
      pool,
      { month, serial: serial!, decision, correctedWh: wholeWh('wh', values.wh), reason: values.reason ?? '' },
      actor,
    );
    console.log(`${month} ${serial}: ${decision.toLowerCase()} recorded; run the month again to apply it`);
  } else if (command === 'replace') {
    const serial = positionals[1];
    if (!serial || !values.at) fail('usage: replace SERIAL --at TIME [--initial-wh N] --note TEXT');
    await recordReplacement(
      pool,
      {
        serial: serial!,
        replacedAt: new Date(values.at!),
        initialWh: wholeWh('initial-wh', values['initial-wh']),
        note: values.note ?? '',
      },
      actor,
    );
    console.log(
      `${serial}: replacement at ${new Date(values.at!).toISOString()} recorded; its counter starts a new epoch`,
    );
  } else if (command === 'payout') {
    const { csv, summary } = await payoutFile(pool, month, actor, { create: true });
    const out = values.out ?? `payout-${month}.csv`;
    writeFileSync(out, csv, { mode: 0o600 });
    console.log(
      `${summary.reference}: ${summary.rows} transfers, ${rials(summary.totalRials)} written to ${out} (sha256 ${summary.sha256})`,
    );
    if (summary.withheld.beneficiaries > 0)
      console.log(
        `  withheld: ${summary.withheld.beneficiaries} beneficiaries without a Sheba, ${rials(summary.withheld.rials)}`,
      );
    console.log(
      `  statements payable ${rials(summary.statementsPayableRials)}: reconciles; status ${summary.status.toLowerCase()}`,
    );
  } else if (command === 'mark-paid') {
    const { alreadyPaid } = await markPaid(pool, month, actor);
    console.log(alreadyPaid ? `${month} was already marked paid: nothing changed` : `${month} is marked paid`);
  } else if (command === 'sms') {
    const { csv, rows, withoutMobile } = await monthSmsCsv(pool, month);
    const out = values.out ?? `sms-${month}.csv`;
    writeFileSync(out, csv, { mode: 0o600 });
    console.log(`${month}: ${rows} SMS written to ${out}`);
    if (withoutMobile > 0) console.log(`  ${withoutMobile} beneficiaries with a statement have no mobile on record`);
  } else if (command === 'schedule') {
    const task = startScheduler(deps, config);
    const stop = () => {
      void task.stop();
      void pool.end();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  } else {
    fail(`unknown command '${command}'\n${USAGE}`);
  }
} catch (error) {
  if (error instanceof BillingError || error instanceof RangeError) fail(error.message, 1);
  throw error;
} finally {
  if (command !== 'schedule') await pool.end();
}
