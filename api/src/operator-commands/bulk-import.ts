// The registry's bulk import from the command line: beneficiaries, installations, inverters or shares
// from CSV, all rows or none; new inverters' broker passwords go to a file only the operator can read.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cliActor } from '../../../lib/audit';
import { type Command, type Parsed, progress, Refusal, usage } from '../../../lib/cli';
import { readDatabaseUrl, readMqttConfig } from '../../../lib/config';
import { csvDocument } from '../../../lib/csv';
import { createPrisma } from '../../../lib/db';
import { BrokerAdmin } from '../../../lib/mqtt/broker-admin';
import { provisionDevices } from '../../../lib/mqtt/device-accounts';
import { IMPORT_KINDS, type ImportKind, runImport } from '../../../registry';

export const bulkImportCommands: Record<string, Command> = {
  import: {
    summary: 'bulk import of beneficiaries, installations, inverters or shares from CSV',
    help: `Usage: npm run ops -- import KIND FILE.csv [--dry-run]

KIND is beneficiaries, installations, inverters or shares. All rows or none: every bad row is
printed (line, column, reason) and nothing is written. New inverters' broker passwords are written
to FILE.credentials.csv (mode 600).

  --dry-run   check every row and report what would change; write nothing`,
    options: { 'dry-run': { type: 'boolean' } },
    run: async ({ values, positionals }: Parsed) => {
      const [kind, file] = positionals;
      if (!kind || !(IMPORT_KINDS as readonly string[]).includes(kind))
        usage(`KIND must be one of ${IMPORT_KINDS.join(', ')}`);
      if (!file) usage('FILE is required');
      if (!existsSync(file!)) throw new Error(`file '${file}' not found`);
      const prisma = createPrisma(readDatabaseUrl(process.env));
      let admin: BrokerAdmin | undefined;
      try {
        const rows = progress(`${kind}: rows checked`);
        const report = await runImport(prisma, kind as ImportKind, readFileSync(file!, 'utf8'), {
          dryRun: (values['dry-run'] as boolean | undefined) ?? false,
          actor: cliActor(),
          provisionDevices: async (serials) => {
            admin ??= await BrokerAdmin.connect(readMqttConfig(process.env, 'ADMIN'));
            return provisionDevices(admin, serials);
          },
          onProgress: (done, total) => rows.update(done, total),
        });
        rows.end();
        for (const e of report.errors)
          console.log(`line ${e.line}${e.column ? `, column ${e.column}` : ''}: ${e.reason}`);
        const verb = report.dryRun ? 'would be' : 'were';
        console.log(
          report.errors.length > 0
            ? `${report.errors.length} bad row(s): nothing was imported`
            : `${report.rows} rows: ${report.created} ${verb} created, ${report.updated} ${verb} updated, ` +
                `${report.unchanged} unchanged${report.dryRun ? ' (dry run: nothing written)' : ''}`,
        );
        if (report.credentials.length > 0) {
          const out = `${file}.credentials.csv`;
          const credentials = report.credentials.map((c) => [c.serial, c.password]);
          writeFileSync(out, csvDocument(['serial', 'password'], credentials), { mode: 0o600 });
          console.log(
            `broker passwords of ${credentials.length} new inverters: ${out} (give them to the installers, then delete the file)`,
          );
        }
        if (report.errors.length > 0) throw new Refusal(`${report.errors.length} bad row(s) in ${file}`);
      } finally {
        await prisma.$disconnect();
        await admin?.close();
      }
    },
  },
};
