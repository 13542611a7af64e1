import { PrismaPg } from '@prisma/adapter-pg';
import { defineConfig } from 'prisma/config';

// Prisma's CLI would download a native schema engine, which is impossible offline. The WASM
// engine with a driver adapter generates and deploys migrations without any download
// (see prisma/README.md for the pinned versions and why they are pinned).
export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  adapter: async () => {
    // Migrations run as the tables' owner; the platform itself connects as the application role.
    const connectionString = process.env.DATABASE_OWNER_URL;
    if (!connectionString)
      throw new Error('DATABASE_OWNER_URL is not set (run `npm run setup`, then source .data/<profile>/platform.env)');
    return new PrismaPg({ connectionString });
  },
} as Parameters<typeof defineConfig>[0]);
