// The API in-process (app.inject, no port) against the real PostgreSQL and broker, with helpers
// to create staff users and sign in.
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
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

/** Runs `fn` while every slot of the app's sign-in queue is taken (as by other people's checks on payday). */
export async function whileSignInsAreFull<T>(app: FastifyInstance, fn: () => Promise<T>): Promise<T> {
  const releases: (() => void)[] = [];
  const taken: Promise<void>[] = [];
  // Taking a slot is synchronous: run() counts it before its first await.
  for (let i = 0; i < app.signInQueue.settings.concurrency; i++)
    taken.push(app.signInQueue.run(() => new Promise<void>((resolve) => releases.push(resolve))));
  try {
    return await fn();
  } finally {
    for (const release of releases) release();
    await Promise.all(taken);
  }
}

/**
 * What a sign-in asks PostgreSQL, as sent by this process while `fn` runs: every statement that
 * looks an account up (by national code or username), reads or counts the sign-in throttle, or
 * starts a session. Both Prisma (through its pg driver adapter) and the plain pools send through
 * pg.Client's query, which is where they are seen. The hourly purge of forgotten throttle rows is
 * not a sign-in's and is left out.
 */
export async function signInStatementsDuring(fn: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const config = args[0] as string | { text?: string } | undefined;
    const text = typeof config === 'string' ? config : (config?.text ?? '');
    if (
      /national_code|"username"|sign_in_throttle|INSERT INTO "public"\."sessions"/.test(text) &&
      !/^DELETE FROM sign_in_throttle WHERE last_failure_at/.test(text.trim())
    )
      seen.push(text.replace(/\s+/g, ' ').slice(0, 160));
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  try {
    await fn();
  } finally {
    pg.Client.prototype.query = original;
  }
  return seen;
}

/**
 * How many round trips to PostgreSQL `fn` waits for one after another, as this process sends them:
 * a statement sent once an earlier one was answered begins a new round. Statements sent together
 * (Promise.all) are one round. Pools must be warm (a new connection is a round trip of its own).
 */
export async function roundTripsDuring(fn: () => Promise<unknown>): Promise<number> {
  let rounds = 0;
  let answered = 0;
  let answeredWhenRoundBegan = -1;
  const done = () => {
    answered += 1;
  };
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    if (answered !== answeredWhenRoundBegan) {
      rounds += 1;
      answeredWhenRoundBegan = answered;
    }
    const callback = args.at(-1);
    if (typeof callback === 'function')
      args[args.length - 1] = (...result: unknown[]) => {
        done();
        return callback(...result);
      };
    const sent = (original as (...a: unknown[]) => unknown).apply(this, args);
    if (sent instanceof Promise) sent.then(done, done);
    return sent;
  } as typeof original;
  try {
    await fn();
  } finally {
    pg.Client.prototype.query = original;
  }
  return rounds;
}
