// Operator CLI:  npm run ops -- <command>
//   create-user --username NAME --role ADMIN|OPERATOR|TECHNICIAN   (password from OPS_PASSWORD or asked)
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { readDatabaseUrl } from '../../lib/config';
import { createPrisma } from '../../lib/db';
import { hashSecret } from './passwords';

const USAGE = `Usage: npm run ops -- <command> [options]

Commands:
  create-user --username NAME --role ADMIN|OPERATOR|TECHNICIAN
      creates a staff account; the password comes from OPS_PASSWORD or is asked for (10+ characters)`;
const fail = (message: string): never => { console.error(`error: ${message}`); process.exit(2); };

async function readPassword(): Promise<string> {
  if (process.env.OPS_PASSWORD) return process.env.OPS_PASSWORD;
  if (!process.stdin.isTTY) return fail('set OPS_PASSWORD or run in a terminal to be asked for the password');
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const password = await rl.question('password (10+ characters): ');
  rl.close();
  return password;
}

const [command, ...args] = process.argv.slice(2);
if (command === 'create-user') {
  const { values } = parseArgs({ args, options: { username: { type: 'string' }, role: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) { console.log(USAGE); process.exit(0); }
  const username = values.username ?? fail('--username is required');
  if (!/^[a-z0-9._-]{3,60}$/.test(username)) fail('--username: 3-60 lowercase letters, digits, dot, dash or underscore');
  const role = values.role ?? fail('--role is required');
  if (role !== 'ADMIN' && role !== 'OPERATOR' && role !== 'TECHNICIAN') fail('--role must be ADMIN, OPERATOR or TECHNICIAN');
  const password = await readPassword();
  if (password.length < 10) fail('the password needs at least 10 characters');
  const prisma = createPrisma(readDatabaseUrl(process.env));
  try {
    const user = await prisma.user.upsert({ where: { username }, create: { username, role: role as 'ADMIN', passwordHash: await hashSecret(password) }, update: { role: role as 'ADMIN', passwordHash: await hashSecret(password), failedSignIns: 0, lockedUntil: null } });
    await prisma.auditLog.create({ data: { actor: `cli:${process.env.USER ?? 'unknown'}`, action: 'upsert', entity: 'user', entityId: String(user.id), after: { username, role } } });
    console.log(`staff user '${username}' (${role}) is ready`);
  } finally {
    await prisma.$disconnect();
  }
} else {
  console.log(USAGE);
  if (command && command !== '--help') process.exit(2);
}
