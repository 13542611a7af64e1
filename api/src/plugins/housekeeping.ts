// Purges what has expired: sessions past their end, stored idempotent replies past their
// lifetime, and sign-in failure counts that are forgotten. At start and every hour.
import fp from 'fastify-plugin';
import type pg from 'pg';
import { FORGET_AFTER_HOURS } from '../sign-in-policy';

const EVERY_MS = 60 * 60_000;

export async function purgeExpired(sql: pg.Pool, idempotencyTtlHours: number) {
  const now = `now() AT TIME ZONE 'UTC'`;
  const count = async (text: string, values: unknown[] = []) => (await sql.query(text, values)).rowCount ?? 0;
  return {
    sessions: await count(`DELETE FROM sessions WHERE expires_at <= ${now}`),
    idempotentReplies: await count(
      `DELETE FROM idempotent_requests WHERE created_at < ${now} - make_interval(hours => $1)`,
      [idempotencyTtlHours],
    ),
    signInThrottle: await count(
      `DELETE FROM sign_in_throttle WHERE last_failure_at < ${now} - make_interval(hours => $1)
         AND (locked_until IS NULL OR locked_until < ${now})`,
      [FORGET_AFTER_HOURS],
    ),
  };
}

export default fp<{ idempotencyTtlHours: number }>(
  async (app, { idempotencyTtlHours }) => {
    const purge = () =>
      purgeExpired(app.sql, idempotencyTtlHours).then(
        (purged) => app.log.debug({ purged }, 'expired sessions and replies purged'),
        (error: Error) => app.log.warn({ err: error }, 'purge of expired sessions and replies failed'),
      );
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<unknown> = Promise.resolve();
    app.addHook('onReady', async () => {
      running = purge();
      timer = setInterval(() => (running = purge()), EVERY_MS).unref();
    });
    app.addHook('onClose', async () => {
      clearInterval(timer);
      await running;
    });
  },
  { name: 'housekeeping', dependencies: ['prisma'] },
);
