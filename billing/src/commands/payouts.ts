// A closed month's payout from the command line: the bank transfer batch (CSV, once) and the
// bank's execution of it.
import { writeFileSync } from 'node:fs';
import { type Command, command, type Parsed } from '../../../lib/cli';
import { markPaid, payoutFile } from '../payouts';
import { actor, PAYOUT_OPTIONS, rials, withMonth } from './common';

export const payoutCommands: Record<string, Command> = {
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
};
