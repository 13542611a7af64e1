import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// `npm run test:unit`: the tests that need no services, in seconds, without setup, lint or types.
// The convention (docs/decisions/005, checked by architecture.test.ts): a test that talks to
// Mosquitto, InfluxDB, PostgreSQL or Chromium lives in a `test/` folder; every other test file
// needs none of them. This config loads no platform.env, runs no global setup, and forgets the
// services' addresses and accounts even when the shell exported a profile's environment, so a test
// outside `test/` that reached for a service fails here instead of passing on running services.
const SERVICE_SETTINGS = /^(DATABASE_(OWNER_)?URL|MQTT_\w+|INFLUX_\w+|PG_\w+|PROMETHEUS_URL|PROXY_\w+|SOLAR_PROFILE)$/;
for (const name of Object.keys(process.env)) if (SERVICE_SETTINGS.test(name)) delete process.env[name];

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.data/**', '**/test/**'],
    testTimeout: 30_000,
    setupFiles: ['testing/no-services.ts'],
    // The files share one process and its loaded modules (two thirds of the CPU time was each file
    // loading its imports in a fresh one): they mock no module and set no environment variable (the
    // settings readers take the environment as an argument; testing/unit-set.test.ts checks), and
    // vi.stubEnv/vi.stubGlobal are undone after each test. `npm test` still runs each in its own.
    isolate: false,
    unstubEnvs: true,
    unstubGlobals: true,
    // Two files at once even on two cores (vitest's default leaves one core to itself): a third of
    // the run is tests waiting on the child processes they start (42-46 s against 47 s, load 12-14).
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
