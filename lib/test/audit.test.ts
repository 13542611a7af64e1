// The one audit writer and the one transaction helper, on the real PostgreSQL: both transports
// write the same row form, the rows written before are mapped by the migration, and a transaction
// commits, rolls back on a throw and on request.
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actorFrom, cliActor, firstAuditEntry, staffActor, writeAudit, writeAuditWithPrisma } from '../audit';
import { createPrisma } from '../db';
import { rollbackWith, withTransaction } from '../transaction';
import { asOwner, emptyPgDatabase } from '../../testing/services';

const DATABASE = 'test_audit_writer';
const MIGRATIONS = 'prisma/migrations';
const MAPPING = readdirSync(MIGRATIONS).find((d) => d.endsWith('_audit_entity_verb')) as string;

let url: string;
let owner: pg.Pool;
const rows = async () =>
  (await owner.query('SELECT actor, action, entity, entity_id, before, after FROM audit_log ORDER BY id')).rows;

beforeAll(async () => {
  url = await emptyPgDatabase(DATABASE);
  owner = new pg.Pool({ connectionString: asOwner(url), max: 2 });
  // Every migration before the mapping, rows of the old forms, then the mapping.
  const before = readdirSync(MIGRATIONS).filter((d) => /^\d{14}_/.test(d) && d < MAPPING);
  for (const migration of before.sort())
    await owner.query(readFileSync(`${MIGRATIONS}/${migration}/migration.sql`, 'utf8'));
  await owner.query(`INSERT INTO audit_log (actor, action, entity, entity_id) VALUES
    ('user:admin', 'create', 'share', '7'), ('user:tech', 'alert_acknowledged', 'alert', '3'),
    ('scheduler', 'billing.close', 'billing_month', '1405-08'), ('cli:root', 'user.upsert', 'user', '1'),
    ('staff:admin', 'payout.paid', 'payout_batch', '1405-08')`);
  await owner.query(readFileSync(`${MIGRATIONS}/${MAPPING}/migration.sql`, 'utf8'));
});

afterAll(async () => {
  await owner?.end();
});

describe('the audit log', () => {
  it('maps the rows written before to entity.verb and a kind of actor, and stays append-only', async () => {
    expect((await rows()).map((r) => [r.actor, r.action])).toEqual([
      ['staff:admin', 'share.create'],
      ['staff:tech', 'alert.acknowledged'],
      ['service:scheduler', 'billing.close'],
      ['cli:root', 'user.upsert'],
      ['staff:admin', 'payout.paid'],
    ]);
    await expect(owner.query(`UPDATE audit_log SET actor = 'someone'`)).rejects.toThrow(/append-only/);
  });

  it('is written in one form over node-postgres and through Prisma, in the caller transaction', async () => {
    const before = (await rows()).length;
    const entry = {
      action: 'share.update' as const,
      entity: 'share',
      entityId: 7n,
      before: { weightW: 5000n, at: new Date(0) },
      after: { weightW: 2500n, list: [1n, null] },
    };
    await writeAudit(owner, { ...entry, actor: staffActor('admin') });
    const prisma = createPrisma(asOwner(url));
    try {
      await writeAuditWithPrisma(prisma, { ...entry, actor: staffActor('admin') });
    } finally {
      await prisma.$disconnect();
    }
    await writeAudit(owner, [
      { actor: 'scheduler', action: 'billing.draft', entity: 'billing_month', entityId: '1405-09' },
      { actor: cliActor({ USER: 'operator' }), action: 'payout.create', entity: 'payout_batch', entityId: '1405-09' },
    ]);
    const written = (await rows()).slice(before);
    const stored = {
      actor: 'staff:admin',
      action: 'share.update',
      entity: 'share',
      entity_id: '7',
      before: { weightW: '5000', at: '1970-01-01T00:00:00.000Z' },
      after: { weightW: '2500', list: ['1', null] },
    };
    expect(written).toEqual([
      stored,
      stored,
      {
        actor: 'service:scheduler',
        action: 'billing.draft',
        entity: 'billing_month',
        entity_id: '1405-09',
        before: null,
        after: null,
      },
      {
        actor: 'cli:operator',
        action: 'payout.create',
        entity: 'payout_batch',
        entity_id: '1405-09',
        before: null,
        after: null,
      },
    ]);
  });

  it('refuses an action that is not entity.verb, before writing anything', async () => {
    const before = (await rows()).length;
    await expect(
      writeAudit(owner, {
        actor: staffActor('admin'),
        action: 'Share.Update' as 'share.update',
        entity: 'share',
        entityId: 1,
      }),
    ).rejects.toThrow(/not entity\.verb/);
    expect((await rows()).length).toBe(before);
  });

  it("reads an action's first entry, with when it was written and what it recorded", async () => {
    expect(await firstAuditEntry(owner, 'test.first')).toBeNull();
    for (const n of [1, 2])
      await writeAudit(owner, { actor: 'test', action: 'test.first', entity: 'test', entityId: n, after: { n } });
    const first = await firstAuditEntry<{ n: number }>(owner, 'test.first');
    expect(first?.after).toEqual({ n: 1 });
    expect(first?.at).toBeInstanceOf(Date);
  });

  it('names actors by kind', () => {
    expect(actorFrom('user:admin')).toBe('staff:admin');
    expect(actorFrom('settlements')).toBe('service:settlements');
    expect(actorFrom('beneficiary:12')).toBe('beneficiary:12');
    expect(actorFrom('cli:root')).toBe('cli:root');
  });
});

describe('withTransaction', () => {
  const count = async () => Number((await owner.query('SELECT count(*) FROM audit_log')).rows[0].count);
  const audit = (db: pg.ClientBase) =>
    writeAudit(db, { actor: 'test', action: 'test.transaction', entity: 'test', entityId: 1 });

  it('commits what the work did and returns its result', async () => {
    const before = await count();
    const done = await withTransaction(owner, async (db) => {
      await audit(db);
      return 'done';
    });
    expect(done).toBe('done');
    expect(await count()).toBe(before + 1);
  });

  it('rolls back when the work throws, and the error goes on', async () => {
    const before = await count();
    await expect(
      withTransaction(owner, async (db) => {
        await audit(db);
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(await count()).toBe(before);
  });

  it('rolls back when the work asks for it (a dry run), and returns its result', async () => {
    const before = await count();
    const outcome = await withTransaction(owner, async (db) => {
      await audit(db);
      return rollbackWith('dry run');
    });
    expect(outcome).toBe('dry run');
    expect(await count()).toBe(before);
  });

  it('runs at the isolation level asked for, and gives the connection back to the pool', async () => {
    const level = await withTransaction(
      owner,
      async (db) => (await db.query('SHOW transaction_isolation')).rows[0].transaction_isolation,
      { isolation: 'REPEATABLE READ' },
    );
    expect(level).toBe('repeatable read');
    expect(owner.idleCount).toBe(owner.totalCount);
  });
});
