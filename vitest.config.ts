import { existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// Tests talk to the real services started by `npm test` (ops/test.sh). When a developer runs
// `npx vitest` directly, pick up the environment that setup wrote for the test profile.
const testEnv = '.data/test/platform.env';
if (!process.env.SOLAR_PROFILE && existsSync(testEnv)) process.loadEnvFile(testEnv);

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.data/**'],
    // Fixtures are fixed historic months (Aban 1404, Mehr 1405): with the platform's 400-day raw
    // retention InfluxDB would drop them once the calendar moves on (and ingest would reject them),
    // so every suite's databases keep raw readings forever. Retention itself is tested with explicit values.
    env: { INFLUX_RAW_RETENTION: 'INF' },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Integration suites share one broker, one InfluxDB and one PostgreSQL, and several of them
    // stop and start those services on purpose: run files one at a time.
    fileParallelism: false,
    globalSetup: ['testing/global-setup.ts'],
    // A test outside a test/ folder is refused every TCP connection, services up or not.
    setupFiles: ['testing/no-services.ts'],
  },
});
