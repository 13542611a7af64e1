// Billing's daily job from the command line (npm start runs it): the month's draft, the close on
// BILLING_CLOSE_DAY, and the queued SMS every minute.
import type { Command } from '../../../lib/cli';
import { createLogger } from '../../../lib/logger';
import { startScheduler } from '../scheduler';
import { readSmsConfig } from '../sms/config';
import { startSmsSender } from '../sms/sender';
import { SmsIr } from '../sms/smsir';
import { setUp } from './common';

export const scheduleCommands: Record<string, Command> = {
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
};
