// API entry point: `npm run api` (environment: api/README.md).
import { configOrExit, readApiConfig } from '../../lib/config';
import { buildApp } from './app';

const config = configOrExit(() => readApiConfig());
const app = await buildApp(config);
await app.listen({ host: config.host, port: config.port });
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void app.close().then(() => process.exit(0)));
