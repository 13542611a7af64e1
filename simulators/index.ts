// The simulators' public entry: what other components' tests may use to plan, register and
// backfill a simulated fleet. Everything under src/ is the simulators' own.
export { runBackfill } from './src/fleet';
export { registerSimulatedFleet } from './src/registry';
export { parseScenario, planFleet } from './src/scenario';
