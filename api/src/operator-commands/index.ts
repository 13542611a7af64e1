// The API's commands of the operator's command line (ops/cli.ts runs them, with ops' own):
// npm run ops -- <command> (`--help` on each): staff accounts, bulk import, progress, broker device
// accounts, the simulated fleet's account, the distribution company's settlements.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { cliActor, writeAuditWithPrisma } from '../../../lib/audit';
import { type Parsed, type Program, progress, Refusal, runProgram, UsageError } from '../../../lib/cli';
import { readDatabaseUrl, readInfluxConfig, readMqttConfig } from '../../../lib/config';
import { csvDocument } from '../../../lib/csv';
import { InfluxClient } from '../../../lib/influx/client';
import { computeProgress } from '../progress';
import { BrokerAdmin } from '../../../lib/mqtt/broker-admin';
import { provisionDevices } from '../../../lib/mqtt/device-accounts';
import { IMPORT_KINDS, runImport, type ImportKind } from '../../../registry';
import { createPrisma } from '../../../lib/db';
import { hashSecret } from '../../../lib/passwords';
import { reconcileDevices } from '../device-reconciliation';
import {
  ensureFleetAccount,
  fleetAccountExists,
  fleetAccountNote,
  removeFleetAccount,
} from '../../../lib/mqtt/service-accounts';
import { settlementsProgram } from './settlements';

const fail = (message: string): never => {
  throw new UsageError(message);
};

async function readPassword(): Promise<string> {
  if (process.env.OPS_PASSWORD) return process.env.OPS_PASSWORD;
  if (!process.stdin.isTTY) throw new Error('set OPS_PASSWORD or run in a terminal to be asked for the password');
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const password = await rl.question('password (10+ characters): ');
  rl.close();
  return password;
}

export const operatorProgram: Program = {
  invocation: 'npm run ops --',
  commands: {
    'create-user': {
      summary: 'create or update a staff account',
      help: `Usage: npm run ops -- create-user --username NAME --role ADMIN|OPERATOR|TECHNICIAN

Creates a staff account, or resets its role and password. The password comes from OPS_PASSWORD
or is asked for in a terminal (10+ characters).`,
      options: { username: { type: 'string' }, role: { type: 'string' } },
      run: async ({ values }: Parsed) => {
        const username = (values.username as string | undefined) ?? fail('--username is required');
        if (!/^[a-z0-9._-]{3,60}$/.test(username))
          fail('--username: 3-60 lowercase letters, digits, dot, dash or underscore');
        const role = (values.role as string | undefined) ?? fail('--role is required');
        if (role !== 'ADMIN' && role !== 'OPERATOR' && role !== 'TECHNICIAN')
          fail('--role must be ADMIN, OPERATOR or TECHNICIAN');
        const password = await readPassword();
        if (password.length < 10) fail('the password needs at least 10 characters');
        const prisma = createPrisma(readDatabaseUrl(process.env));
        try {
          const passwordHash = await hashSecret(password);
          const user = await prisma.user.upsert({
            where: { username },
            create: { username, role: role as 'ADMIN', passwordHash },
            update: { role: role as 'ADMIN', passwordHash, disabledAt: null },
          });
          // A new password ends every session of the account (API processes drop cached ones within 10 s).
          await prisma.session.deleteMany({ where: { userId: user.id } });
          await writeAuditWithPrisma(prisma, {
            actor: cliActor(),
            action: 'user.upsert',
            entity: 'user',
            entityId: user.id,
            after: { username, role },
          });
          console.log(`staff user '${username}' (${role}) is ready`);
        } finally {
          await prisma.$disconnect();
        }
      },
    },
    'first-admin': {
      summary: "unless an ADMIN exists, create the ADMIN 'admin' with a generated password",
      help: `Usage: npm run ops -- first-admin --password-file FILE

Unless an ADMIN exists: creates the ADMIN 'admin' with a generated password, written to FILE
(mode 600, readable by you only). npm start runs it.`,
      options: { 'password-file': { type: 'string' } },
      run: async ({ values }: Parsed) => {
        const file = (values['password-file'] as string | undefined) ?? fail('--password-file is required');
        const prisma = createPrisma(readDatabaseUrl(process.env));
        try {
          const admin = await prisma.user.findFirst({ where: { role: 'ADMIN' }, orderBy: { id: 'asc' } });
          if (admin) {
            console.log(
              `staff admin '${admin.username}' exists${existsSync(file) ? `; first password in ${file}` : ''}`,
            );
          } else {
            const password = randomBytes(15).toString('base64url');
            // Written before the account exists: a crash between the two leaves a file, never an account no one can use.
            writeFileSync(file, `${password}\n`, { mode: 0o600 });
            const user = await prisma.user.create({
              data: { username: 'admin', role: 'ADMIN', passwordHash: await hashSecret(password) },
            });
            await writeAuditWithPrisma(prisma, {
              actor: cliActor(),
              action: 'user.create',
              entity: 'user',
              entityId: user.id,
              after: { username: user.username, role: user.role },
            });
            console.log(`staff admin 'admin' created; its password is in ${file} (mode 600)`);
          }
        } finally {
          await prisma.$disconnect();
        }
      },
    },
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
          fail(`KIND must be one of ${IMPORT_KINDS.join(', ')}`);
        if (!file) fail('FILE is required');
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
    'reconcile-devices': {
      summary: 'remove orphaned broker device accounts; list active inverters without one',
      help: `Usage: npm run ops -- reconcile-devices

Removes broker device accounts that belong to no active inverter (left by failed requests) and
lists active inverters without one. The API also does this when it starts.`,
      run: async () => {
        const prisma = createPrisma(readDatabaseUrl(process.env));
        const admin = await BrokerAdmin.connect(readMqttConfig(process.env, 'ADMIN'));
        try {
          const r = await reconcileDevices(prisma, admin);
          console.log(
            `device accounts: ${r.deviceAccounts} on the broker, ${r.activeInverters} active inverters; removed ` +
              `${r.removed.length} orphaned account(s)${r.removed.length ? `: ${r.removed.join(', ')}` : ''}`,
          );
          if (r.missing.length > 0)
            console.log(
              `${r.missing.length} active inverter(s) without a broker account (issue credentials: POST ` +
                `/inverters/{serial}/credentials): ${r.missing.join(', ')}`,
            );
        } finally {
          await Promise.all([prisma.$disconnect(), admin.close()]);
        }
      },
    },
    'fleet-account': {
      summary: "the simulated fleet's broker account (publishes for every serial): status, ensure, remove",
      help: `Usage: npm run ops -- fleet-account status|ensure|remove

The broker account MQTT_FLEET_USERNAME (svc:simulated-fleet) may publish telemetry for every serial.
Setup never makes it: a simulated fleet (npm run sim, the demo seed, the tests) makes it when it
starts. On a deployment that runs no simulator, remove it:
  status   whether it exists
  ensure   make it (role simulated-fleet, password MQTT_FLEET_PASSWORD), as a fleet does
  remove   delete it (connected fleets are dropped); refuses an account that is not the fleet's`,
      run: async ({ positionals }: Parsed) => {
        const [action] = positionals;
        if (action !== 'status' && action !== 'ensure' && action !== 'remove')
          fail('give status, ensure or remove (see --help)');
        const name = readMqttConfig(process.env, 'FLEET').username;
        try {
          if (action === 'ensure') console.log(fleetAccountNote(process.env, await ensureFleetAccount(process.env)));
          else if (action === 'remove') {
            const outcome = await removeFleetAccount(process.env);
            console.log(
              outcome === 'removed'
                ? `fleet account ${name}: removed (a simulated fleet started later makes it again)`
                : `fleet account ${name}: absent, nothing to remove`,
            );
          } else console.log(`fleet account ${name}: ${(await fleetAccountExists(process.env)) ? 'exists' : 'absent'}`);
        } catch (error) {
          throw new Refusal(`fleet-account ${action}: ${(error as Error).message}`);
        }
      },
    },
    settlements: {
      summary: "the distribution company's settlements: import, reconcile, cash (its own --help)",
      help: 'Usage: npm run ops -- settlements <command> [options]',
      nested: true,
      run: ({ positionals }) => runProgram(settlementsProgram, positionals),
    },
    progress: {
      summary: 'MW commissioned and people receiving income against the targets, by province',
      help: `Usage: npm run ops -- progress

MW commissioned and people receiving income against the program's targets, by province, and the
inverters silent while the sun is up at their site.`,
      run: async () => {
        const prisma = createPrisma(readDatabaseUrl(process.env));
        try {
          const p = await computeProgress(prisma, new InfluxClient(readInfluxConfig(process.env, 'READER')), 30);
          const rows = p.provinces.filter((x) => x.installations > 0 || x.people > 0);
          console.log(`Program progress at ${p.generatedAt}`);
          console.log(
            `  MW commissioned: ${p.overall.mwCommissioned} of ${p.target.mw} (${p.overall.mwPercent} %), ${p.overall.installations} installations`,
          );
          console.log(
            `  people receiving income: ${p.overall.people} of ${p.target.people} (${p.overall.peoplePercent} %)`,
          );
          console.log(
            `  inverters: ${p.freshness.activeInverters} active, ${p.freshness.sunUp} under the sun now, ${
              p.freshness.silentWhileSunUp === null
                ? 'how many silent is unknown (InfluxDB unreachable)'
                : `${p.freshness.silentWhileSunUp} silent for ${p.freshness.staleAfterMinutes}+ min while the sun is up`
            }`,
          );
          if (rows.length > 0) {
            console.log(
              `\n  ${'province'.padEnd(28)}${'installations'.padStart(14)}${'MW'.padStart(10)}${'people'.padStart(10)}`,
            );
            for (const r of rows)
              console.log(
                `  ${`${r.province} (${r.nameFa})`.padEnd(28)}${String(r.installations).padStart(14)}` +
                  `${r.mwCommissioned.toFixed(3).padStart(10)}${String(r.people).padStart(10)}`,
              );
          }
          if (p.freshness.silentSerials.length > 0)
            console.log(
              `\n  silent: ${p.freshness.silentSerials.slice(0, 20).join(', ')}${p.freshness.silentSerials.length > 20 ? ', …' : ''}`,
            );
        } finally {
          await prisma.$disconnect();
        }
      },
    },
  },
};
