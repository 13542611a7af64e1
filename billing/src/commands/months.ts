// Billing's months from the command line: run one as a draft, close it, and show the billed months
// or one month's totals with the installations to look at.
import type { Command, Parsed } from '../../../lib/cli';
import { describeFlag, monthAttention } from '../attention';
import { BillingError } from '../errors';
import { runMonth } from '../run-month';
import { actor, rials, setUp, withMonth } from './common';

const MONTH_HELP = `MONTH is a Solar Hijri month, YYYY-MM (e.g. 1405-08 = Aban 1405); the default is the current month.`;

/** "draft to date (as of …)" while a month runs: energy up to each inverter's latest reading. */
const statusOf = (status: string, toDateAt: Date | number | null) =>
  toDateAt === null
    ? status.toLowerCase()
    : `${status.toLowerCase()} to date (as of ${new Date(toDateAt).toISOString().slice(0, 16).replace('T', ' ')} UTC)`;

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

export const monthCommands: Record<string, Command> = {
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
          for (const h of a.heldLateData) console.log(`    ${h.forMonth}: ${h.wh} Wh, ${rials(h.rials)}: ${h.reason}`);
        }
        if (attention.total > attention.rows.length)
          console.log(
            `  … and ${attention.total - attention.rows.length} more (API: /billing/months/${month}/attention)`,
          );
      });
    },
  },
};
