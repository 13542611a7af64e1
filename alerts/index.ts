// The alerts' public entry: what other components (and their tests) may use. Everything under
// src/ is the alerts' own; list a name here before another component imports it.
export { type AlertsConfig, readAlertsConfig, readNotificationConfig } from './src/config';
export { AlertsEvaluator } from './src/evaluator';
export { Deliverer } from './src/notify';
export { webhookFingerprint, webhookLabel } from './src/store';
export {
  closeRaisedAlert,
  closeRaisedAlerts,
  type RaiseAlert,
  raiseAlert,
  raiseAlerts,
  raisedKey,
} from './src/raise';
