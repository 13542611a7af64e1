// The audit log of every change that touches money, shares or devices (append-only in PostgreSQL),
// written by lib/audit.ts as `entity.verb` by the signed-in caller.
import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import { writeAuditWithPrisma } from '../../../lib/audit';
import type { PrismaClient } from '../../../lib/db';
import { actorOf } from './auth';

type Tx = Pick<PrismaClient, 'auditLog'>;
export interface AuditEntry {
  /** What was done to the entity (`create`, `update`, `set_pin`): the action is `entity.verb`. */
  verb: string;
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

export default fp(
  async (app) => {
    app.decorate('audit', async (request: FastifyRequest, { verb, ...entry }: AuditEntry, tx?: Tx) => {
      await writeAuditWithPrisma(tx ?? app.prisma, {
        ...entry,
        actor: actorOf(request.principal),
        action: `${entry.entity}.${verb}`,
      });
    });
  },
  { name: 'audit', dependencies: ['prisma', 'auth'] },
);
