// The alerts' public entry: what other components (and their tests) may use. Everything under
// src/ is the alerts' own; list a name here before another component imports it.
export { type AlertsConfig, readAlertsConfig, readNotificationConfig } from './src/config';
export {
  ACTIVE_STATES,
  ALERT_CAUSES,
  ALERT_RULES,
  ALERT_SEVERITIES,
  ALERT_STATES,
  type AlertCause,
  type AlertRule,
  type AlertSeverity,
  type AlertState,
} from './src/core/types';
export { AlertsEvaluator } from './src/evaluator';
export { alertMeterShortfalls } from './src/meter-shortfall';
export { Deliverer } from './src/notify';
export { type AlertsOfPeriod, alertsOfPeriod, type CostlyAlert } from './src/period-summary';
export {
  type AlertAction,
  AlertActionRefused,
  type AlertFilter,
  type AlertView,
  type AlertWithTimeline,
  actOnAlert,
  alertWithTimeline,
  countAlerts,
  countNotifications,
  findAlerts,
  findNotifications,
  type NotificationView,
} from './src/people';
export { webhookFingerprint, webhookLabel } from './src/store';
export {
  closeRaisedAlert,
  closeRaisedAlerts,
  type RaiseAlert,
  raiseAlert,
  raiseAlerts,
  raisedKey,
} from './src/raise';
