// API entry point: `npm run api` (environment: api/README.md).
import { ConfigError, readApiConfig } from '../../lib/config';
import { buildApp } from './app';

let config;
try {
  config = readApiConfig();
} catch (error) {
  if (error instanceof ConfigError) { console.error(error.message); process.exit(2); }
  throw error;
}
const app = await buildApp(config);
await app.listen({ host: config.host, port: config.port });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void app.close().then(() => process.exit(0)));
