import { defineConfig } from 'vitest/config';

// `npm run test:unit`: the tests that need no services, in seconds, without setup, lint or types.
// The convention (checked by architecture.test.ts): a test that talks to Mosquitto, InfluxDB,
// PostgreSQL or Chromium lives in a `test/` folder; every other test file needs none of them.
// This config loads no platform.env and runs no global setup, so a test outside `test/` that
// reached for a service would fail here instead of passing on a developer's running services.
export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.data/**', '**/test/**'],
    testTimeout: 30_000,
  },
});
