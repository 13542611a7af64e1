// Ingest's public entry: what other components may use (the demo seed checks the settings a worker
// would start with). Everything under src/ is ingest's own; ingest is otherwise reached over MQTT.
export { readIngestConfig } from './src/config';
