// Prisma for everything, and a plain pg pool for the few reads on every request's path (session
// lookup, a beneficiary's own list), where the query builder's per-call work showed in the tail.
import fp from 'fastify-plugin';
import type pg from 'pg';
import { createPool, createPrisma, type PrismaClient } from '../../../lib/db';

declare module 'fastify' {
  interface FastifyInstance {
    prisma: PrismaClient;
    sql: pg.Pool;
  }
}

export default fp<{ databaseUrl: string }>(
  async (app, { databaseUrl }) => {
    const prisma = createPrisma(databaseUrl);
    const sql = createPool({ connectionString: databaseUrl, max: 10 }, app.log);
    app.decorate('prisma', prisma);
    app.decorate('sql', sql);
    app.addHook('onClose', async () => {
      await Promise.all([prisma.$disconnect(), sql.end()]);
    });
  },
  { name: 'prisma' },
);
