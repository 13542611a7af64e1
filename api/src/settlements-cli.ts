// The distribution company's settlements from the command line:  npm run ops -- settlements <command>
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { readAlertsConfig } from '../../alerts';
import { cashPosition, importSettlements, readBillingConfig } from '../../billing';
import { configOrExit } from '../../lib/config';
import { InfluxClient } from '../../lib/influx/client';
import { createLogger } from '../../lib/logger';
import { reconcileAndAlert } from './settlement-alerts';

export const SETTLEMENTS_USAGE = `Usage: npm run ops -- settlements <command> [options]

Commands:
  import FILE.csv [--dry-run]   the distribution company's settlement file: all rows or none; every
                                bad row is printed (line, column, reason); the same file again changes nothing
                                columns: installation_code or export_meter, period_start, period_end
                                (Solar Hijri, both days included), metered_kwh, amount_rials, reference, paid_on
  reconcile [--all]             compare new and changed settlements (--all: every one) with telemetry;
                                an export meter well below telemetry raises an alert for technicians
  cash                          the program's cash position: promised, paid, settled, received, outstanding`;

const fail = (message: string, code = 2): never => {
  console.error(`error: ${message}`);
  process.exit(code);
};
const rials = (value: bigint) => `${value.toLocaleString('en-US')} Rials`;

/** `npm run ops -- settlements ...` with the arguments after `settlements`. */
export async function runSettlementsCommand(args: string[]): Promise<void> {
  let parsed: ReturnType<typeof parseArgs<{ allowPositionals: true; options: typeof OPTIONS; args: string[] }>>;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: OPTIONS });
  } catch (error) {
    return fail(`${(error as Error).message}\n${SETTLEMENTS_USAGE}`);
  }
  const { values, positionals } = parsed;
  const [command, file] = positionals;
  if (values.help || !command) {
    console.log(SETTLEMENTS_USAGE);
    if (!values.help) process.exitCode = 2;
    return;
  }
  if (!['import', 'reconcile', 'cash'].includes(command)) fail(`unknown command '${command}'\n${SETTLEMENTS_USAGE}`);
  if (command === 'import' && !file)
    fail('import needs the settlement file: npm run ops -- settlements import FILE.csv');

  const config = configOrExit(() => readBillingConfig(process.env));
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 4 });
  const today = new Date().toLocaleDateString('en-CA', { timeZone: 'Asia/Tehran' });
  try {
    if (command === 'import') {
      let text = '';
      try {
        text = readFileSync(file!, 'utf8');
      } catch (error) {
        fail(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 1);
      }
      const dryRun = values['dry-run'] ?? false;
      const report = await importSettlements(pool, text, { dryRun, actor: `cli:${process.env.USER ?? 'unknown'}` });
      for (const e of report.errors) console.error(`  line ${e.line}${e.column ? `, ${e.column}` : ''}: ${e.reason}`);
      if (report.errors.length > 0)
        fail(
          `${report.errors.length} problem${report.errors.length === 1 ? '' : 's'} in ${file}: nothing was imported`,
          1,
        );
      console.log(
        `${dryRun ? 'dry run, nothing written: would create' : 'created'} ${report.created}, ${dryRun ? 'update' : 'updated'} ${report.updated}, unchanged ${report.unchanged} of ${report.rows} settlements`,
      );
    } else if (command === 'reconcile') {
      const alerts = configOrExit(() => readAlertsConfig(process.env));
      const summary = await reconcileAndAlert(
        {
          pool,
          influx: new InfluxClient(config.influx),
          policy: config.settlements,
          stepDowns: config.rules.stepDowns,
          lookaroundDays: config.lookaroundDays,
          log: createLogger('settlements', process.env.LOG_LEVEL ?? 'warn'),
        },
        alerts,
        { all: values.all ?? false },
      );
      console.log(
        `${summary.reconciled} settlements in ${summary.periods} periods reconciled in ${summary.seconds.toFixed(1)} s`,
      );
      for (const [status, n] of Object.entries(summary.byStatus)) console.log(`  ${status.toLowerCase()}: ${n}`);
      for (const p of summary.meterProblems)
        console.log(
          `  alert raised: the export meter of ${p.installationCode} reads ${p.energyDifferencePercent} % against telemetry (settlement ${p.reference})`,
        );
    } else {
      const c = await cashPosition(pool, today, config.settlements.lateAfterDays);
      console.log(`Cash position on ${c.asOf} (closed months and settlements imported so far)`);
      console.log(
        `  promised to beneficiaries ${rials(c.promisedRials)}, paid ${rials(c.paidToBeneficiariesRials)}, owed ${rials(c.owedToBeneficiariesRials)}`,
      );
      console.log(`  settled by the distribution company ${rials(c.settledRials)}, received ${rials(c.receivedRials)}`);
      console.log(
        `  outstanding: settled not paid ${rials(c.receivableRials)} (late ${rials(c.receivableLateRials)}), billed not yet settled ${rials(c.unsettledRials)} (late ${rials(c.unsettledLateRials)})`,
      );
      console.log(
        `  program pool ${rials(c.poolRials)}, differences absorbed ${rials(c.absorbedDifferenceRials)}, carried to beneficiaries ${rials(c.carriedDifferenceRials)}`,
      );
      console.log(`  cash ${rials(c.cashRials)}; coverage of what is owed ${rials(c.coverageRials)}`);
      for (const p of c.byProvince)
        if (p.lateRials + p.unsettledLateRials > 0n)
          console.log(`  ${p.province}: late ${rials(p.lateRials)}, not settled ${rials(p.unsettledLateRials)}`);
    }
  } finally {
    await pool.end();
  }
}

const OPTIONS = {
  'dry-run': { type: 'boolean' },
  all: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;
