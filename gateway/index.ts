// The gateway's public entry: what other components (and their tests) may use to talk SunSpec to
// a device. Everything under src/ is the gateway's own.
export {
  discoverSunSpec,
  type Identity,
  identify,
  pollPlan,
  type RegisterReader,
  readModel,
  type SunSpecMap,
  SunSpecError,
} from './src/sunspec/discover';
