// The monthly SMS from the command line: a closed month's messages as CSV for a gateway, and sending
// the queued ones through the provider now.
import { writeFileSync } from 'node:fs';
import { type Command, command, type Parsed, UsageError } from '../../../lib/cli';
import { createLogger } from '../../../lib/logger';
import { monthSmsCsv } from '../sms-export';
import { readSmsConfig } from '../sms/config';
import { SmsSender, smsStatus } from '../sms/sender';
import { SmsIr } from '../sms/smsir';
import { PAYOUT_OPTIONS, withMonth } from './common';

export const smsCommands: Record<string, Command> = {
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
};
