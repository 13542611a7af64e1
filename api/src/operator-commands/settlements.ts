// The distribution company's settlements from the command line:  npm run ops -- settlements <command>
// (`--help` on each)
import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { readAlertsConfig } from '../../../alerts';
import { cashPosition, importSettlements, readBillingConfig } from '../../../billing';
import { cliActor } from '../../../lib/audit';
import { command, type Parsed, type Program, Refusal, usage } from '../../../lib/cli';
import { createPool } from '../../../lib/db';
import { InfluxClient } from '../../../lib/influx/client';
import { createLogger } from '../../../lib/logger';
import { tehranDate } from '../../../lib/program/tehran-time';
import { reconcileAndAlert } from '../settlement-alerts';

/** The settings and a connection pool for one command, closed afterwards. */
async function withPool(
  work: (config: ReturnType<typeof readBillingConfig>, pool: pg.Pool) => Promise<void>,
): Promise<void> {
  const config = readBillingConfig(process.env);
  const pool = createPool({ connectionString: config.databaseUrl, max: 4 });
  try {
    await work(config, pool);
  } finally {
    await pool.end();
  }
}
const rials = (value: bigint) => `${value.toLocaleString('en-US')} Rials`;
const today = () => tehranDate(Date.now());
const IMPORT_OPTIONS = { 'dry-run': { type: 'boolean' } } as const;
const RECONCILE_OPTIONS = { all: { type: 'boolean' } } as const;

export const settlementsProgram: Program = {
  invocation: 'npm run ops -- settlements',
  commands: {
    import: command({
      summary: "import the distribution company's settlement file (all rows or none)",
      help: `Usage: npm run ops -- settlements import FILE.csv [--dry-run]

The distribution company's settlement file: all rows or none; every bad row is printed (line,
column, reason); the same file again changes nothing. Columns: installation_code or export_meter,
period_start, period_end (Solar Hijri, both days included), metered_kwh, amount_rials, reference,
paid_on.

  --dry-run   check every row and report what would change; write nothing`,
      options: IMPORT_OPTIONS,
      run: ({ values, positionals: [file] }: Parsed<typeof IMPORT_OPTIONS>) => {
        if (!file) usage('FILE is required');
        return withPool(async (_config, pool) => {
          let text = '';
          try {
            text = readFileSync(file, 'utf8');
          } catch (error) {
            throw new Error(
              `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
            );
          }
          const dryRun = values['dry-run'] ?? false;
          const report = await importSettlements(pool, text, { dryRun, actor: cliActor() });
          for (const e of report.errors)
            console.error(`  line ${e.line}${e.column ? `, ${e.column}` : ''}: ${e.reason}`);
          if (report.errors.length > 0)
            throw new Refusal(
              `${report.errors.length} problem${report.errors.length === 1 ? '' : 's'} in ${file}: nothing was imported`,
            );
          console.log(
            `${dryRun ? 'dry run, nothing written: would create' : 'created'} ${report.created}, ` +
              `${dryRun ? 'update' : 'updated'} ${report.updated}, unchanged ${report.unchanged} of ${report.rows} settlements`,
          );
        });
      },
    }),
    reconcile: command({
      summary: 'compare new and changed settlements with telemetry; raise meter alerts',
      help: `Usage: npm run ops -- settlements reconcile [--all]

Compares new and changed settlements with the energy telemetry recorded over their period; an
export meter well below telemetry raises an alert for technicians.

  --all   every settlement, not only new and changed ones`,
      options: RECONCILE_OPTIONS,
      run: ({ values }: Parsed<typeof RECONCILE_OPTIONS>) =>
        withPool(async (config, pool) => {
          const alerts = readAlertsConfig(process.env);
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
        }),
    }),
    cash: command({
      summary: "the program's cash position: promised, paid, settled, received, outstanding",
      help: `Usage: npm run ops -- settlements cash

The program's cash position from closed months and the settlements imported so far.`,
      run: () =>
        withPool(async (config, pool) => {
          const c = await cashPosition(pool, today(), config.settlements.lateAfterDays);
          console.log(`Cash position on ${c.asOf} (closed months and settlements imported so far)`);
          console.log(
            `  promised to beneficiaries ${rials(c.promisedRials)}, paid ${rials(c.paidToBeneficiariesRials)}, owed ${rials(c.owedToBeneficiariesRials)}`,
          );
          console.log(
            `  settled by the distribution company ${rials(c.settledRials)}, received ${rials(c.receivedRials)}`,
          );
          console.log(
            `  outstanding: settled not paid ${rials(c.receivableRials)} (late ${rials(c.receivableLateRials)}), ` +
              `billed not yet settled ${rials(c.unsettledRials)} (late ${rials(c.unsettledLateRials)})`,
          );
          console.log(
            `  program pool ${rials(c.poolRials)}, differences absorbed ${rials(c.absorbedDifferenceRials)}, ` +
              `carried to beneficiaries ${rials(c.carriedDifferenceRials)}`,
          );
          if (c.corrections.length > 0)
            console.log(
              `  corrections of paid settlements: ${c.corrections.length}, reversed ${rials(c.reversedRials)}, ` +
                `entered ${rials(c.correctedRials)} (in settled and received above)`,
            );
          console.log(`  cash ${rials(c.cashRials)}; coverage of what is owed ${rials(c.coverageRials)}`);
          for (const p of c.byProvince)
            if (p.lateRials + p.unsettledLateRials > 0n)
              console.log(`  ${p.province}: late ${rials(p.lateRials)}, not settled ${rials(p.unsettledLateRials)}`);
        }),
    }),
  },
};
