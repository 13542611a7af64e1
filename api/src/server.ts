// API entry point: `npm run api` (environment: api/README.md).
import { configOrExit } from '../../lib/config';
import { readApiConfig } from './config';
import { buildApp } from './app';
import { reconcileDevices } from './device-reconciliation';

const config = configOrExit(() => readApiConfig());
const app = await buildApp(config);
await app.listen({ host: config.host, port: config.port });
// Broker accounts left by requests that failed before this start (a crash between the broker and
// PostgreSQL): removed now. A broker that is down only delays this to the next on-demand run.
app
  .brokerAdmin()
  .then((admin) => reconcileDevices(app.prisma, admin))
  .then(
    (r) =>
      app.log.info(
        { ...r, removed: r.removed.slice(0, 50), missing: r.missing.slice(0, 50) },
        `device accounts reconciled: ${r.removed.length} orphan(s) removed, ${r.missing.length} active inverter(s) without one`,
      ),
    (error: Error) => app.log.warn({ err: error }, 'device accounts not reconciled at start'),
  );
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void app.close().then(() => process.exit(0)));
