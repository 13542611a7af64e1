// Ingest worker entry point: `npm run ingest` (environment: see ingest/README.md).
import { configOrExit } from '../../lib/config';
import { readIngestConfig } from './config';
import { createLogger } from '../../lib/logger';
import { startIngestWorker } from './worker';

// The journal holds readings and the dead letters raw payloads: owner-only, whatever the shell's umask.
process.umask(0o077);
const config = configOrExit(() => readIngestConfig());
const log = createLogger(`ingest-${config.workerId}`, config.logLevel);
const worker = await startIngestWorker(config, log).catch((error: Error) => {
  log.fatal({ error: error.message }, 'ingest could not start');
  process.exit(1);
});
log.info(
  { worker: config.workerId, shareGroup: config.shareGroup, http: `127.0.0.1:${config.httpPort}` },
  'ingest running',
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    void worker.stop().then(() => process.exit(0));
  });
}
