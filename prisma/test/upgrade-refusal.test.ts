// An upgrade that meets data a new rule forbids stops before changing anything, names what it met
// and says what to do; done as it says, the upgrade completes (`prisma migrate resolve` needs the
// native schema engine, which this project does without: the message gives the SQL it would run). The case: two contracts of one
// installation starting on one day (allowed before 20261206013000_contract_start_unique).
import { execFileSync } from 'node:child_process';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRelease } from '../../testing/release-fixture';
import { asOwner, dropPgDatabase, emptyPgDatabase, pgUrlOf, withPg } from '../../testing/services';

const MIGRATION = '20261206013000_contract_start_unique';
const database = `upgrade_refusal_${process.pid}`;
const ownerUrl = asOwner(pgUrlOf(database));
const owner = <T>(fn: (c: pg.Client) => Promise<T>) => withPg(fn, ownerUrl);
/** `npx prisma migrate ...` on the test's database: its exit status and everything it printed. */
function prisma(...args: string[]): { ok: boolean; output: string } {
  try {
    const output = execFileSync('npx', ['prisma', 'migrate', ...args], {
      env: { ...process.env, DATABASE_OWNER_URL: ownerUrl },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { ok: true, output };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

let twin: { code: string; first: string; second: string };
beforeAll(async () => {
  await emptyPgDatabase(database);
  twin = await owner(async (c) => {
    await loadRelease(c);
    const { rows } = await c.query<{ code: string; first: string; second: string }>(
      `INSERT INTO contracts (installation_id, reference, kind, start_date)
         SELECT installation_id, reference || '-TWIN', kind, start_date FROM contracts ORDER BY id LIMIT 1
       RETURNING (SELECT code FROM installations WHERE id = installation_id) AS code,
                 (SELECT reference FROM contracts ORDER BY id LIMIT 1) AS first, reference AS second`,
    );
    return rows[0]!;
  });
}, 180_000);
afterAll(() => dropPgDatabase(database));

describe('an upgrade over two contracts that start on one day', () => {
  it('stops before the new rule, naming the installation, both contracts and what to do', async () => {
    const deploy = prisma('deploy');
    expect(deploy.ok).toBe(false);
    expect(deploy.output).toContain(`installation ${twin.code}`);
    expect(deploy.output).toContain(`${twin.first}, ${twin.second}`);
    expect(deploy.output).toContain(
      `SET rolled_back_at = now() WHERE migration_name = '${MIGRATION}' AND finished_at IS NULL) and run setup again`,
    );
    const state = await owner(async (c) => ({
      index: (await c.query(`SELECT 1 FROM pg_indexes WHERE indexname = 'contracts_installation_id_start_date_key'`))
        .rowCount,
      contracts: (await c.query(`SELECT 1 FROM contracts WHERE reference = ANY($1)`, [[twin.first, twin.second]]))
        .rowCount,
      finished: (
        await c.query(`SELECT 1 FROM _prisma_migrations WHERE migration_name >= $1 AND finished_at IS NOT NULL`, [
          MIGRATION,
        ])
      ).rowCount,
    }));
    expect(state).toEqual({ index: 0, contracts: 2, finished: 0 });
  }, 120_000);

  it('completes once the program has removed one and marked the attempt rolled back, as the message says', async () => {
    await owner((c) => c.query('DELETE FROM contracts WHERE reference = $1', [twin.second]));
    await owner((c) =>
      c.query(
        'UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = $1 AND finished_at IS NULL',
        [MIGRATION],
      ),
    );
    const deploy = prisma('deploy');
    expect(deploy.output).toContain(MIGRATION);
    expect(deploy.ok).toBe(true);
    expect(prisma('status').output).toMatch(/up to date/);
  }, 120_000);
});
