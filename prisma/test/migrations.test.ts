// Offline schema workflow: the committed migrations match schema.prisma, and they deploy from
// scratch (generate + migrate deploy + a query through the driver adapter) with no download.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrisma } from '../../lib/db';
import { dropPgDatabase, ownerDatabaseUrl, pgUrlOf, withPg } from '../../testing/services';

const scratch = `migrations_check_${process.pid}`;
const scratchUrl = () => pgUrlOf(scratch, ownerDatabaseUrl());
const prisma = (args: string[], url = ownerDatabaseUrl()) =>
  execFileSync('npx', ['prisma', ...args], {
    env: { ...process.env, DATABASE_OWNER_URL: url },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });

beforeAll(() => withPg((c) => c.query(`CREATE DATABASE ${scratch}`)));
afterAll(() => dropPgDatabase(scratch));

describe('Prisma migrations (offline)', () => {
  it('have no drift: schema.prisma equals the schema of the last migration', () => {
    const script = prisma([
      'migrate',
      'diff',
      '--from-schema-datamodel',
      'prisma/migrations/schema-at-last-migration.prisma',
      '--to-schema-datamodel',
      'prisma/schema.prisma',
      '--script',
    ]);
    expect(script.split('\n').filter((l) => l.trim() && !l.startsWith('--'))).toEqual([]);
  });

  it('deploy into an empty database and serve queries through the driver adapter', async () => {
    const out = prisma(['migrate', 'deploy'], scratchUrl());
    expect(out).toMatch(
      /migrations? (have been )?(successfully )?applied|All migrations have been successfully applied/i,
    );
    const client = createPrisma(scratchUrl());
    try {
      const province = await client.province.create({
        data: { code: 'yazd', nameEn: 'Yazd', nameFa: 'یزد', capitalEn: 'Yazd', latitude: 31.9, longitude: 54.37 },
      });
      const installation = await client.installation.create({
        data: {
          code: 'Y-1',
          name: 'roof',
          provinceId: province.id,
          latitude: 31.9,
          longitude: 54.37,
          dcCapacityKwp: 5,
          acRatingKw: 5,
        },
      });
      await client.inverter.create({
        data: { serial: 'INV-1', installationId: installation.id, ratedAcW: 5000, model: 'x' },
      });
      expect(await client.inverter.count()).toBe(1);
      await expect(
        client.inverter.create({
          data: { serial: 'INV-1', installationId: installation.id, ratedAcW: 5000, model: 'x' },
        }),
      ).rejects.toThrow(/Unique constraint/);
    } finally {
      await client.$disconnect();
    }
    expect(prisma(['migrate', 'status'], scratchUrl())).toMatch(/up to date/);
  });

  it('notify listeners when the registry changes (the trigger ingest relies on)', async () => {
    const url = scratchUrl();
    const pg = (await import('pg')).default;
    const listener = new pg.Client({ connectionString: url });
    await listener.connect();
    const heard = new Promise<string>((resolve) => listener.on('notification', (n) => resolve(n.payload ?? '')));
    await listener.query('LISTEN registry_changed');
    const writer = new pg.Client({ connectionString: url });
    await writer.connect();
    await writer.query(`UPDATE inverters SET rated_ac_w = 4000 WHERE serial = 'INV-1'`);
    expect(await heard).toBe('inverters');
    await Promise.all([listener.end(), writer.end()]);
  });
});
