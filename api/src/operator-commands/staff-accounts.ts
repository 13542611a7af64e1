// Staff accounts from the command line: create or update one (its sessions end with a new password),
// and the first ADMIN that npm start makes when there is none.
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { cliActor, writeAuditWithPrisma } from '../../../lib/audit';
import { type Command, type Parsed, usage } from '../../../lib/cli';
import { readDatabaseUrl } from '../../../lib/config';
import { createPrisma } from '../../../lib/db';
import { hashSecret } from '../../../lib/passwords';

async function readPassword(): Promise<string> {
  if (process.env.OPS_PASSWORD) return process.env.OPS_PASSWORD;
  if (!process.stdin.isTTY) throw new Error('set OPS_PASSWORD or run in a terminal to be asked for the password');
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const password = await rl.question('password (10+ characters): ');
  rl.close();
  return password;
}

export const staffAccountCommands: Record<string, Command> = {
  'create-user': {
    summary: 'create or update a staff account',
    help: `Usage: npm run ops -- create-user --username NAME --role ADMIN|OPERATOR|TECHNICIAN

Creates a staff account, or resets its role and password. The password comes from OPS_PASSWORD
or is asked for in a terminal (10+ characters).`,
    options: { username: { type: 'string' }, role: { type: 'string' } },
    run: async ({ values }: Parsed) => {
      const username = (values.username as string | undefined) ?? usage('--username is required');
      if (!/^[a-z0-9._-]{3,60}$/.test(username))
        usage('--username: 3-60 lowercase letters, digits, dot, dash or underscore');
      const role = (values.role as string | undefined) ?? usage('--role is required');
      if (role !== 'ADMIN' && role !== 'OPERATOR' && role !== 'TECHNICIAN')
        usage('--role must be ADMIN, OPERATOR or TECHNICIAN');
      const password = await readPassword();
      if (password.length < 10) usage('the password needs at least 10 characters');
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
      const file = (values['password-file'] as string | undefined) ?? usage('--password-file is required');
      const prisma = createPrisma(readDatabaseUrl(process.env));
      try {
        const admin = await prisma.user.findFirst({ where: { role: 'ADMIN' }, orderBy: { id: 'asc' } });
        if (admin) {
          console.log(`staff admin '${admin.username}' exists${existsSync(file) ? `; first password in ${file}` : ''}`);
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
};
