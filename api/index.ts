// The API's public entry: what tests and tools outside api/ may use to run it in-process.
// Everything under src/ is the API's own; list a name here before another folder imports it.
export { buildApp } from './src/app';
export { readApiConfig } from './src/config';
// The API's commands of the operator's command line (ops/cli.ts).
export { operatorProgram } from './src/operator-commands';
