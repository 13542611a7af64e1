// Billing from the command line:  npm run billing -- <command> [MONTH] (`--help` on each)
// One module per group (commands/): months, counters that need a person, payouts, SMS, the daily
// schedule; listed in this order in the help.
import { main } from '../../lib/cli';
import { counterCommands } from './commands/counters';
import { monthCommands } from './commands/months';
import { payoutCommands } from './commands/payouts';
import { scheduleCommands } from './commands/schedule';
import { smsCommands } from './commands/sms';
import { BillingError } from './errors';

await main({
  invocation: 'npm run billing --',
  isRefusal: (error) => error instanceof BillingError,
  commands: { ...monthCommands, ...counterCommands, ...payoutCommands, ...smsCommands, ...scheduleCommands },
});
