// The audit log of every change that touches money, shares or devices (append-only in PostgreSQL).
import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import type { PrismaClient } from '../../../lib/db';
import { actorOf } from './auth';

type Tx = Pick<PrismaClient, 'auditLog'>;
export interface AuditEntry {
  action: string;
  entity: string;
  entityId: string | number;
  before?: unknown;
  after?: unknown;
}

declare module 'fastify' {
  interface FastifyInstance {
    audit: (request: FastifyRequest, entry: AuditEntry, tx?: Tx) => Promise<void>;
  }
}

// JSON-safe copy (bigint and Decimal as strings, dates as ISO).
const plain = (value: unknown) =>
  value === undefined
    ? undefined
    : JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));

export default fp(
  async (app) => {
    app.decorate('audit', async (request: FastifyRequest, entry: AuditEntry, tx?: Tx) => {
      await (tx ?? app.prisma).auditLog.create({
        data: {
          actor: actorOf(request.principal),
          action: entry.action,
          entity: entry.entity,
          entityId: String(entry.entityId),
          before: plain(entry.before),
          after: plain(entry.after),
        },
      });
    });
  },
  { name: 'audit', dependencies: ['prisma', 'auth'] },
);
