// Is this error a dependency being away (stopped, restarting, unreachable)? One answer for the API
// (503 + Retry-After instead of 500) and the command lines (a plain error line instead of a bug's).
import { InfluxError } from './influx/client';

/** A dependency that is away: worth a retry, not a bug. */
export type Dependency = 'PostgreSQL' | 'InfluxDB';

/** Opening a connection to PostgreSQL failed because the server is away (refused, reset, starting up...). */
export class PostgresUnavailable extends Error {
  override name = 'PostgresUnavailable';
  constructor(cause: Error) {
    super(`PostgreSQL is unavailable: ${cause.message}`, { cause });
  }
}

// SQLSTATE of a server going away or not yet there: shutting down, crashed, starting up, too many connections, connection exceptions.
const SQLSTATE_UNAVAILABLE = /^(08\d{3}|57P0[123]|53300)$/;

// Prisma: can't reach / timed out / connection closed / pool timeout / too many connections.
const PRISMA_UNAVAILABLE = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2037']);
// node-postgres on a connection the server dropped: these errors carry no code.
const PG_CONNECTION_LOST =
  /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect)/;

/** The dependency that `error` (or an error it wraps) says is away; null for anything else. */
export function unavailableDependency(error: unknown): Dependency | null {
  const seen = new Set<unknown>();
  for (let e = error as Record<string, unknown> | undefined; e && typeof e === 'object' && !seen.has(e); ) {
    seen.add(e);
    if (e instanceof PostgresUnavailable) return 'PostgreSQL';
    if (e instanceof InfluxError) return e.retryable ? 'InfluxDB' : null;
    const code = typeof e.code === 'string' ? e.code : undefined;
    if (code && (PRISMA_UNAVAILABLE.has(code) || SQLSTATE_UNAVAILABLE.test(code))) return 'PostgreSQL';
    if (e.name === 'PrismaClientInitializationError') return 'PostgreSQL';
    if (typeof e.message === 'string' && PG_CONNECTION_LOST.test(e.message)) return 'PostgreSQL';
    // Prisma keeps the driver adapter's error in meta; that one keeps pg's fields in its cause.
    const meta = e.meta as Record<string, unknown> | undefined;
    e = (e.cause ?? meta?.driverAdapterError) as Record<string, unknown> | undefined;
  }
  return null;
}
