// PostgreSQL for the components: Prisma Client over the node-postgres driver adapter (no native
// query engine to download), and plain pg pools for hot paths and transactions.
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../prisma/generated/client/client';
import type { Logger } from './logger';
import { PostgresUnavailable, unavailableDependency } from './unavailable';

export function createPrisma(databaseUrl: string): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
}

export type { PrismaClient };

// A connect that failed on the network: the server is not there (stopped, restarting, unreachable).
const SOCKET_UNAVAILABLE = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE)$/;

/** A failed connect as PostgresUnavailable when the server is away; anything else (a wrong password, no database) as it is. */
function connectFailure(error: Error): Error {
  const { code } = error as Error & { code?: unknown };
  const away = (typeof code === 'string' && SOCKET_UNAVAILABLE.test(code)) || unavailableDependency(error) !== null;
  return away && !(error instanceof PostgresUnavailable) ? new PostgresUnavailable(error) : error;
}

type ConnectCallback = (
  err: Error | undefined,
  client: pg.PoolClient | undefined,
  done: (release?: unknown) => void,
) => void;

/** A pool whose connection failures say that PostgreSQL is away (pool.query connects through here too). */
class PlatformPool extends pg.Pool {
  override connect(): Promise<pg.PoolClient>;
  override connect(callback: ConnectCallback): void;
  override connect(callback?: ConnectCallback): Promise<pg.PoolClient> | undefined {
    if (callback) {
      super.connect((error, client, done) => callback(error && connectFailure(error), client, done));
      return undefined;
    }
    return super.connect().catch((error: Error) => {
      throw connectFailure(error);
    });
  }
}

/**
 * A pg pool for a long-running process or a command: a connection failure is a PostgresUnavailable,
 * and a connection the server drops (PostgreSQL stopped or restarted) never crashes the process.
 * node-postgres emits 'error' on a client that loses its connection between queries: the pool
 * listens while the client is idle, nobody while it is checked out (a transaction waiting on
 * InfluxDB), and an 'error' without a listener is thrown. The next query on that client fails with
 * the reason, which is where it is handled; an idle one is replaced on next use.
 */
export function createPool(config: pg.PoolConfig, log?: Pick<Logger, 'warn'>): pg.Pool {
  const pool = new PlatformPool(config);
  pool.on('connect', (client) => client.on('error', () => undefined));
  pool.on('error', (error) =>
    log?.warn({ err: error }, 'a PostgreSQL connection was lost; it is replaced on next use'),
  );
  return pool;
}
