// The dashboards' public entry: what other components (ops' bootstrap) may use. The dashboards
// themselves are the JSON files under json/, generated from src/.
export { ensureReaderRole, readReaderAccount } from './src/reader-role';
