// The one way a component runs several statements as a unit on PostgreSQL (node-postgres): BEGIN,
// the work, COMMIT, or ROLLBACK when the work throws (the error goes on) or asks for it with
// `rollbackWith` (a refusal or a dry run that must leave nothing behind).
import type pg from 'pg';

/** What `work` returns to end its transaction with ROLLBACK; `withTransaction` then returns `result`. */
export class Rollback<T> {
  constructor(readonly result: T) {}
}
export const rollbackWith = <T>(result: T): Rollback<T> => new Rollback(result);

export interface TransactionOptions {
  /** Default READ COMMITTED, PostgreSQL's own. */
  isolation?: 'REPEATABLE READ' | 'SERIALIZABLE';
}

/** Runs `work` in one transaction on a connection it owns (`pg.Client` or a pool's client). */
export async function inTransaction<T, C extends pg.ClientBase>(
  client: C,
  work: (client: C) => Promise<T | Rollback<T>>,
  options: TransactionOptions = {},
): Promise<T> {
  await client.query(options.isolation ? `BEGIN ISOLATION LEVEL ${options.isolation}` : 'BEGIN');
  try {
    const outcome = await work(client);
    if (outcome instanceof Rollback) {
      await client.query('ROLLBACK');
      return outcome.result;
    }
    await client.query('COMMIT');
    return outcome;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Runs `work` in one transaction on a client of `pool`, released afterwards. */
export async function withTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T | Rollback<T>>,
  options: TransactionOptions = {},
): Promise<T> {
  const client = await pool.connect();
  try {
    return await inTransaction(client, work, options);
  } finally {
    client.release();
  }
}
