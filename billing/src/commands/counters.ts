// Counters that need a person, from the command line: a decision on an inverter's month held as
// implausible, and a replaced inverter's new counter epoch (both audited).
import { type Command, command, instant, type Parsed, usage, wholeWh } from '../../../lib/cli';
import type { ReviewDecision } from '../core/counter-review';
import { recordReplacement, reviewCounter } from '../counter-reviews';
import { actor, setUp, withMonth } from './common';

const REVIEW_OPTIONS = { wh: { type: 'string' }, reason: { type: 'string' } } as const;
const REPLACE_OPTIONS = { at: { type: 'string' }, 'initial-wh': { type: 'string' }, note: { type: 'string' } } as const;

export const counterCommands: Record<string, Command> = {
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
              correctedWh: wholeWh(args.values.wh, 'wh') ?? null,
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
            initialWh: wholeWh(values['initial-wh'], 'initial-wh') ?? null,
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
};
