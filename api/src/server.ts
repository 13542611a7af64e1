// API entry point: `npm run api` (environment: api/README.md).
import { configOrExit } from '../../lib/config';
import { readApiConfig } from './config';
import { buildApp } from './app';
import { reconcileDevices } from './device-reconciliation';
import { drainAndClose, warmUp } from './lifecycle';

const config = configOrExit(() => readApiConfig());
const app = await buildApp(config);
// Warm before the port opens: until then the proxy's connections are refused and it sends them to
// another process (lifecycle.ts).
const warm = await warmUp(app, config.warmUpRounds);
await app.listen({ host: config.host, port: config.port });
app.lifecycle.phase = 'ready';
app.log.info(
  `ready: warmed up in ${Math.round(warm.ms)} ms (${config.warmUpRounds} rounds: ${warm.requests} requests, ` +
    `${warm.pages} sample pages rendered, ${warm.connections} database connections opened` +
    `${warm.failed ? `; its reads failed: ${warm.failed}` : ''})`,
);
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
// The first signal drains and closes (lifecycle.ts); a second one ends the process at once.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    process.once(signal, () => process.exit(1));
    void drainAndClose(app, config.drainSeconds * 1000).then(() => process.exit(0));
  });
