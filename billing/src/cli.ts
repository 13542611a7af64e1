// Billing from the command line:  npm run billing -- <command> [MONTH] (`--help` on each)
import { writeFileSync } from 'node:fs';
import { cliActor } from '../../lib/audit';
import { command, instant, main, type Parsed, UsageError, usage } from '../../lib/cli';
import { createPool } from '../../lib/db';
import { InfluxClient } from '../../lib/influx/client';
import { createLogger } from '../../lib/logger';
import { describeFlag, monthAttention } from './attention';
import type { ReviewDecision } from './core/counter-review';
import { monthOf, parseMonth } from '../../lib/program/solar-hijri';
import { recordReplacement, reviewCounter } from './counter-reviews';
import { markPaid, payoutFile } from './payouts';
import { readBillingConfig } from './config';
import { BillingError } from './errors';
import { runMonth, type BillingDeps } from './run-month';
import { startScheduler } from './scheduler';
import { monthSmsCsv } from './sms-export';
import { readSmsConfig } from './sms/config';
import { SmsSender, smsStatus, startSmsSender } from './sms/sender';
import { SmsIr } from './sms/smsir';

const MONTH_HELP = `MONTH is a Solar Hijri month, YYYY-MM (e.g. 1405-08 = Aban 1405); the default is the current month.`;

/** The month argument (default: the current one), checked; the settings and connections to bill it. */
function setUp({ positionals }: { positionals: string[] }, required: boolean, monthArgs = 1) {
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
async function withMonth(
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

const actor = cliActor();
const rials = (value: bigint | string) => `${BigInt(value).toLocaleString('en-US')} Rials`;
/** "draft to date (as of …)" while a month runs: energy up to each inverter's latest reading. */
const statusOf = (status: string, toDateAt: Date | number | null) =>
  toDateAt === null
    ? status.toLowerCase()
    : `${status.toLowerCase()} to date (as of ${new Date(toDateAt).toISOString().slice(0, 16).replace('T', ' ')} UTC)`;

const wholeWh = (name: string, text: string | undefined): number | null => {
  if (text === undefined) return null;
  if (!/^\d{1,15}$/.test(text)) usage(`--${name}: whole Wh, e.g. 372000`);
  return Number(text);
};

async function bill(args: Parsed, close: boolean): Promise<void> {
  await withMonth(args, close, async ({ month, deps }) => {
    const summary = await runMonth(deps, month, { close, actor });
    const t = summary.totals;
    console.log(
      `${month}: ${statusOf(summary.status, summary.toDateAt)} in ${summary.seconds.toFixed(1)} s (digest ${summary.digest.slice(0, 16)})`,
    );
    console.log(
      `  ${t.installations} installations, ${(t.energyWh / 1000).toLocaleString('en-US')} kWh, gross ` +
        `${rials(t.grossRials)}, net ${rials(t.netRials)}, program pool ${rials(t.poolRials)}`,
    );
    const running = summary.toDateAt === null ? '' : ' (the month is still running: energy so far)';
    console.log(
      `  ${t.beneficiaries} statements, payable ${rials(t.payableRials)}; ${summary.adjustments} late-data ` +
        `adjustments; ${t.incomplete} installations with incomplete data${running}; ${t.implausible} implausible (held: see show ${month})`,
    );
  });
}

const REVIEW_OPTIONS = { wh: { type: 'string' }, reason: { type: 'string' } } as const;
const REPLACE_OPTIONS = { at: { type: 'string' }, 'initial-wh': { type: 'string' }, note: { type: 'string' } } as const;
/** payout and sms: where to write the file. */
const PAYOUT_OPTIONS = { out: { type: 'string' } } as const;

await main({
  invocation: 'npm run billing --',
  isRefusal: (error) => error instanceof BillingError,
  commands: {
    run: {
      summary: 'bill a month as a draft (replaces the previous draft; re-runnable)',
      help: `Usage: npm run billing -- run [MONTH]\n\nBills the month as a draft, replacing the previous draft.\n${MONTH_HELP}`,
      run: (args) => bill(args, false),
    },
    close: {
      summary: 'bill a month once more and close it: it can no longer change',
      help:
        `Usage: npm run billing -- close MONTH\n\nBills the month once more and closes it; closed months never ` +
        `change (late data becomes\nadjustments in a later month). Implausible counters still held block the close.`,
      run: (args) => bill(args, true),
    },
    show: {
      summary: 'every billed month, one line each; with MONTH, its totals and installations to look at',
      help: `Usage: npm run billing -- show [MONTH]

Without MONTH: every billed month, one line each. With MONTH: its totals and the installations to
look at: implausible (held: they block the close) and incomplete, with the readings that made them so.`,
      run: async (args) => {
        if (args.positionals.length === 0) {
          const { pool } = setUp(args, false);
          try {
            const { rows } = await pool.query(
              `SELECT month, status, to_date_at, installations, beneficiaries, energy_wh, gross_rials, ` +
                `payable_rials, incomplete, implausible FROM billing_months ORDER BY month`,
            );
            if (rows.length === 0)
              throw new BillingError('not_found', 'no month has been billed yet; run: npm run billing -- run');
            for (const row of rows)
              console.log(
                `${row.month}  ${(row.to_date_at ? 'to date' : row.status.toLowerCase()).padEnd(7)}  ` +
                  `${String(row.installations).padStart(6)} installations  ` +
                  `${(Number(row.energy_wh) / 1000).toLocaleString('en-US', { maximumFractionDigits: 0 }).padStart(12)} kWh  gross ` +
                  `${rials(row.gross_rials).padStart(24)}  payable ${rials(row.payable_rials).padStart(24)} to ` +
                  `${row.beneficiaries} people${row.incomplete > 0 ? `  (${row.incomplete} incomplete)` : ''}` +
                  `${row.implausible > 0 ? `  (${row.implausible} implausible, held)` : ''}` +
                  `${row.to_date_at ? `  (${statusOf(row.status, row.to_date_at)})` : ''}`,
              );
          } finally {
            await pool.end();
          }
          return;
        }
        await withMonth(args, true, async ({ month, pool }) => {
          const m = await pool.query('SELECT * FROM billing_months WHERE month = $1', [month]);
          if (!m.rows[0])
            throw new BillingError('not_found', `${month} has not been billed; run: npm run billing -- run ${month}`);
          const row = m.rows[0];
          console.log(
            `${month}: ${statusOf(row.status, row.to_date_at)}, computed ${row.computed_at.toISOString()}` +
              `${row.closed_at ? `, closed ${row.closed_at.toISOString()} by ${row.closed_by}` : ''}`,
          );
          console.log(
            `  ${row.installations} installations, ${(Number(row.energy_wh) / 1000).toLocaleString('en-US')} ` +
              `kWh, gross ${rials(row.gross_rials)}, net ${rials(row.net_rials)}, pool ${rials(row.pool_rials)}, payable ${rials(row.payable_rials)}`,
          );
          console.log(`  ${row.implausible} implausible (held), ${row.incomplete} with incomplete data`);
          const attention = await monthAttention(pool, month, { limit: 50, offset: 0 });
          for (const a of attention.rows) {
            console.log(
              `  ${a.code} (${a.province}): ${a.implausible ? 'IMPLAUSIBLE, held' : ''}` +
                `${a.implausible && a.incomplete ? '; ' : ''}${a.incomplete ? 'incomplete' : ''}`,
            );
            for (const inv of a.inverters) {
              const decided = inv.review
                ? ` [decided: ${String(inv.review.decision).toLowerCase()} by ${String(inv.review.decidedBy)}]`
                : '';
              for (const flag of inv.flags) console.log(`    ${inv.serial}: ${describeFlag(flag)}${decided}`);
              if (inv.boundWh !== null)
                console.log(
                  `    ${inv.serial}: a decision bills at most ${inv.boundWh.toLocaleString('en-US')} Wh (the rating over the month, +10 %)`,
                );
            }
            for (const h of a.heldLateData)
              console.log(`    ${h.forMonth}: ${h.wh} Wh, ${rials(h.rials)}: ${h.reason}`);
          }
          if (attention.total > attention.rows.length)
            console.log(
              `  … and ${attention.total - attention.rows.length} more (API: /billing/months/${month}/attention)`,
            );
        });
      },
    },
    review: command({
      summary: "decide on an inverter's month held as implausible (audited)",
      help: `Usage: npm run billing -- review MONTH SERIAL accept|exclude|correct [--wh N] --reason TEXT

Decides on an inverter's month held as implausible: bill what was read (accept), nothing
(exclude), or N Wh (correct --wh N). Audited; the next run of the month applies it.`,
      options: REVIEW_OPTIONS,
      run: (args: Parsed<typeof REVIEW_OPTIONS>) =>
        withMonth(
          args,
          true,
          async ({ month, pool }) => {
            const [, serial, decisionText] = args.positionals;
            const decision = decisionText?.toUpperCase() as ReviewDecision;
            if (!serial || !['ACCEPT', 'EXCLUDE', 'CORRECT'].includes(decision))
              usage('give SERIAL and accept, exclude or correct');
            await reviewCounter(
              pool,
              {
                month,
                serial: serial!,
                decision,
                correctedWh: wholeWh('wh', args.values.wh),
                reason: args.values.reason ?? '',
              },
              actor,
            );
            console.log(`${month} ${serial}: ${decision.toLowerCase()} recorded; run the month again to apply it`);
          },
          3,
        ),
    }),
    replace: command({
      summary: 'record a new inverter on a serial from a time: a new counter epoch (audited)',
      help: `Usage: npm run billing -- replace SERIAL --at TIME [--initial-wh N] --note TEXT

Records a new inverter on SERIAL from TIME (ISO 8601), its counter reading N Wh then if known:
billing starts a new counter epoch there. Audited.`,
      options: REPLACE_OPTIONS,
      run: async ({ values, positionals }: Parsed<typeof REPLACE_OPTIONS>) => {
        const [serial, ...extra] = positionals;
        if (extra.length > 0) usage(`unexpected argument '${extra[0]}'`);
        if (!serial) usage('SERIAL is required');
        const replacedAt = new Date(instant(values.at ?? usage('--at is required'), 'at', 0));
        const { pool } = setUp({ positionals: [] }, false);
        try {
          await recordReplacement(
            pool,
            {
              serial: serial!,
              replacedAt,
              initialWh: wholeWh('initial-wh', values['initial-wh']),
              note: values.note ?? '',
            },
            actor,
          );
          console.log(`${serial}: replacement at ${replacedAt.toISOString()} recorded; its counter starts a new epoch`);
        } finally {
          await pool.end();
        }
      },
    }),
    payout: command({
      summary: "a closed month's bank transfer batch (CSV) and its summary",
      help:
        `Usage: npm run billing -- payout MONTH [--out FILE]\n\nCreates the bank transfer batch of a closed ` +
        `month (once; later calls return the same file)\nand writes it as CSV (sheba, amount_rials, name, ` +
        `reference), mode 600.\n\n  --out FILE   where to write it (default payout-MONTH.csv)`,
      options: PAYOUT_OPTIONS,
      run: (args: Parsed<typeof PAYOUT_OPTIONS>) =>
        withMonth(args, true, async ({ month, pool }) => {
          const { csv, summary } = await payoutFile(pool, month, actor, { create: true });
          const out = args.values.out ?? `payout-${month}.csv`;
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
        }),
    }),
    'mark-paid': {
      summary: "record that the bank executed a month's batch (once)",
      help: 'Usage: npm run billing -- mark-paid MONTH\n\nRecords that the bank executed the batch; a second time changes nothing.',
      run: (args) =>
        withMonth(args, true, async ({ month, pool }) => {
          const { alreadyPaid } = await markPaid(pool, month, actor);
          console.log(alreadyPaid ? `${month} was already marked paid: nothing changed` : `${month} is marked paid`);
        }),
    },
    sms: command({
      summary: 'the monthly SMS of a closed month: CSV of mobile,text for the SMS gateway',
      help: `Usage: npm run billing -- sms MONTH [--out FILE]

The monthly SMS of a closed month, as CSV (mobile,text) for the SMS gateway, mode 600.

  --out FILE   where to write it (default sms-MONTH.csv)`,
      options: PAYOUT_OPTIONS,
      run: (args: Parsed<typeof PAYOUT_OPTIONS>) =>
        withMonth(args, true, async ({ month, pool }) => {
          const { csv, rows, withoutMobile } = await monthSmsCsv(pool, month);
          const out = args.values.out ?? `sms-${month}.csv`;
          writeFileSync(out, csv, { mode: 0o600 });
          console.log(`${month}: ${rows} SMS written to ${out}`);
          if (withoutMobile > 0)
            console.log(`  ${withoutMobile} beneficiaries with a statement have no mobile on record`);
        }),
    }),
    'sms-send': {
      summary:
        'send the queued SMS now (paced, outside the quiet hours) and read delivery reports; with MONTH, its counts',
      help: `Usage: npm run billing -- sms-send [MONTH]

Sends every SMS that is due through the provider (SMS.ir; SMS_API_KEY, SMS_LINE_NUMBER), at
SMS_PER_MINUTE and never in SMS_QUIET_HOURS, then records the delivery reports. Messages are queued
when a month closes (statement ready) and when its payout is marked paid; npm start's schedule
sends them every minute. With MONTH: then prints that month's messages by kind and status.`,
      run: (args) =>
        withMonth(args, false, async ({ month, pool }) => {
          const config = readSmsConfig(process.env);
          if (!config.provider) throw new UsageError('no SMS provider configured: set SMS_API_KEY and SMS_LINE_NUMBER');
          const sender = new SmsSender(pool, new SmsIr(config.provider), config, createLogger('billing', 'warn'));
          const sent = await sender.sendDue();
          const reported = await sender.followReports();
          console.log(
            sent.quiet
              ? 'quiet hours (SMS_QUIET_HOURS): nothing sent now'
              : `${sent.sent} SMS sent, ${sent.failed} refused (retried later), ${sent.cancelled} cancelled (opted out); ${reported} delivery reports recorded`,
          );
          if (args.positionals.length > 0)
            for (const row of await smsStatus(pool, month))
              console.log(`  ${month} ${row.kind} ${row.status}: ${row.count}`);
        }),
    },
    schedule: {
      summary: 'run the daily job: draft the current month, close the previous one on BILLING_CLOSE_DAY; send the SMS',
      help:
        'Usage: npm run billing -- schedule\n\nRuns until stopped: drafts the current month every day ' +
        '(BILLING_DRAFT_CRON, Tehran time) and\ncloses the previous month on BILLING_CLOSE_DAY; sends queued SMS ' +
        'every minute when a provider is\nconfigured (sms-send). npm start runs it.',
      run: (args) => {
        const { deps, config, pool } = setUp(args, false);
        const log = createLogger('billing', config.logLevel);
        const task = startScheduler({ ...deps, log }, config);
        const sms = readSmsConfig(process.env);
        const sender = startSmsSender(pool, sms.provider && new SmsIr(sms.provider), sms, log);
        const stop = () => {
          void task.stop();
          sender.stop();
          void pool.end();
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      },
    },
  },
});
