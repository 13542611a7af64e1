// The distribution company's settlements from the command line:  npm run settlements -- <command>
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { configOrExit } from '../../../lib/config';
import { readBillingConfig } from '../config';
import { InfluxClient } from '../../../lib/influx/client';
import { createLogger } from '../../../lib/logger';
import { cashPosition } from './cash-position';
import { importSettlements } from './import-settlements';
import { reconcileSettlements } from './reconcile-settlements';

const USAGE = `Usage: npm run settlements -- <command> [options]

Commands:
  import FILE.csv [--dry-run]   the distribution company's settlement file: all rows or none; every
                                bad row is printed (line, column, reason); the same file again changes nothing
                                columns: installation_code or export_meter, period_start, period_end
                                (Solar Hijri, both days included), metered_kwh, amount_rials, reference, paid_on
  reconcile [--all]             compare new and changed settlements (--all: every one) with telemetry
  cash                          the program's cash position: promised, paid, settled, received, outstanding`;

const fail = (message: string, code = 2): never => {
  console.error(`error: ${message}`);
  process.exit(code);
};
let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    allowPositionals: true,
    options: { 'dry-run': { type: 'boolean' }, all: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
}
try {
  parsed = parse();
} catch (error) {
  fail(`${(error as Error).message}\n${USAGE}`);
}
const { values, positionals } = parsed!;
const [command, file] = positionals;
if (values.help || !command) {
  console.log(USAGE);
  process.exit(command || values.help ? 0 : 2);
}
if (!['import', 'reconcile', 'cash'].includes(command)) fail(`unknown command '${command}'\n${USAGE}`);
if (command === 'import' && !file) fail('import needs the settlement file: npm run settlements -- import FILE.csv');

const config = configOrExit(() => readBillingConfig(process.env));
const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 4 });
const rials = (value: bigint) => `${value.toLocaleString('en-US')} Rials`;
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
    const summary = await reconcileSettlements(
      {
        pool,
        influx: new InfluxClient(config.influx),
        policy: config.settlements,
        stepDowns: config.rules.stepDowns,
        lookaroundDays: config.lookaroundDays,
        log: createLogger('settlements', process.env.LOG_LEVEL ?? 'warn'),
      },
      { all: values.all ?? false },
    );
    console.log(
      `${summary.reconciled} settlements in ${summary.periods} periods reconciled in ${summary.seconds.toFixed(1)} s`,
    );
    for (const [status, n] of Object.entries(summary.byStatus)) console.log(`  ${status.toLowerCase()}: ${n}`);
    for (const p of summary.meterProblems)
      console.log(
        `  check the export meter of ${p.installationCode}: ${p.energyDifferencePercent} % against telemetry`,
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
