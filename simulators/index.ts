// The simulators' public entry: what other components' tests may use to plan, register and
// backfill a simulated fleet. Everything under src/ is the simulators' own.
export {
  faultFreeTwin,
  type Incident,
  type IncidentKind,
  type LabelledFleet,
  labelledFleet,
} from './src/fault-library';
export { runBackfill } from './src/fleet';
export { addDemoContracts, registerSimulatedFleet } from './src/registry';
export { generatedFleet, type PlannedInverter, parseScenario, planFleet, type Scenario } from './src/scenario';
export { storedCounters } from './src/stored-counters';
export { MODBUS_PROFILES, ModbusFleet, type ModbusFleetOptions } from './src/modbus/modbus-fleet';
export { MapDevice } from './src/modbus/map-device';
export { SUNSPEC_PROFILES, type SunSpecProfile } from './src/modbus/sunspec-device';
