// The API in-process (app.inject, no port) against the real PostgreSQL and broker, with helpers
// to create staff users and sign in.
import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { hashSecret } from '../lib/passwords';
import { buildApp, readApiConfig } from '../api';
import { createPrisma } from '../lib/db';

export async function testApp(
  overrides: Record<string, string> = {},
  logDestination?: DestinationStream,
): Promise<FastifyInstance> {
  return buildApp(readApiConfig({ ...process.env, LOG_LEVEL: 'silent', ...overrides }), { logDestination });
}

/** The password staffToken gives the accounts it makes (for clients that sign in themselves). */
export const STAFF_PASSWORD = 'long-enough-password';
export async function staffToken(
  app: FastifyInstance,
  username: string,
  role: 'ADMIN' | 'OPERATOR' | 'TECHNICIAN',
  databaseUrl = process.env.DATABASE_URL!,
): Promise<string> {
  const prisma = createPrisma(databaseUrl);
  try {
    const passwordHash = await hashSecret(STAFF_PASSWORD);
    await prisma.user.upsert({
      where: { username },
      create: { username, role, passwordHash },
      update: { role, passwordHash, disabledAt: null },
    });
  } finally {
    await prisma.$disconnect();
  }
  const response = await app.inject({
    method: 'POST',
    url: '/auth/staff/sign-in',
    payload: { username, password: STAFF_PASSWORD },
  });
  if (response.statusCode !== 200) throw new Error(`sign-in of ${username} failed: ${response.body}`);
  return response.json().token as string;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
