// Alertmanager's configuration from the platform's notification settings: the platform's own alerts
// go to the same webhooks and e-mail recipients as the technicians' (alerts/README.md:
// ALERTS_WEBHOOK_URLS, ALERTS_EMAIL_TO, ALERTS_EMAIL_FROM, ALERTS_SMTP_URL), read and checked by the
// alerts' own reader, whose problems never quote a URL (they carry passwords and bot tokens). JSON is
// YAML, so the configuration is written as JSON. `tsx ops/monitor/alertmanager-config.ts` prints it (setup).
// Webhooks go through the monitor (relay.ts): Alertmanager 0.25 shows a webhook's URL, bot token
// included, to anyone who asks its API (GET /api/v2/status, no authentication) and writes it into its
// log when a delivery fails; so its configuration holds only the monitor's address and the URL's
// fingerprint. The SMTP password is one of Alertmanager's secrets: shown as <secret>.
import { readNotificationConfig, webhookFingerprint } from '../../alerts/index';
import { configOrExit, type Env, EnvReader } from '../../lib/config';
import { MONITOR_DEFAULT_PORT, readWatchdogIntervalSeconds, WATCHDOG_PATH } from './config';

/** Where Alertmanager posts for the webhook with this fingerprint (the monitor relays it). */
export const relayPath = (fingerprint: string) => `/alertmanager/webhook/${fingerprint}`;

export function alertmanagerConfig(env: Env): Record<string, unknown> {
  const r = new EnvReader(env);
  const notifications = r.include(() => readNotificationConfig(env));
  const smtp = notifications?.smtpUrl ? new URL(notifications.smtpUrl) : null;
  const port = smtp?.port || (smtp?.protocol === 'smtps:' ? '465' : '25');
  const global = smtp
    ? {
        smtp_smarthost: `${smtp.hostname}:${port}`,
        smtp_from: notifications!.emailFrom,
        ...(smtp.username ? { smtp_auth_username: decodeURIComponent(smtp.username) } : {}),
        ...(smtp.password ? { smtp_auth_password: decodeURIComponent(smtp.password) } : {}),
        // smtps:// is TLS from the first byte (port 465); smtp:// on loopback needs no STARTTLS.
        smtp_require_tls: smtp.protocol === 'smtp:' && !['127.0.0.1', 'localhost', '[::1]'].includes(smtp.hostname),
      }
    : {};
  const receiver: Record<string, unknown> = { name: 'platform' };
  const monitor = `http://127.0.0.1:${r.integer('MONITOR_PORT', MONITOR_DEFAULT_PORT, 1, 65535)}`;
  const webhooks = (notifications?.webhookUrls ?? []).map((url) => `${monitor}${relayPath(webhookFingerprint(url))}`);
  const emailTo = notifications?.emailTo ?? [];
  if (webhooks.length > 0) receiver.webhook_configs = webhooks.map((url) => ({ url, send_resolved: true }));
  if (emailTo.length > 0) receiver.email_configs = emailTo.map((to) => ({ to, send_resolved: true }));
  const watchdogEvery = `${readWatchdogIntervalSeconds(r)}s`;
  return r.done({
    global,
    route: {
      receiver: 'platform',
      group_by: ['alertname', 'dependency', 'worker'],
      group_wait: r.string('ALERTMANAGER_GROUP_WAIT', '30s'),
      group_interval: r.string('ALERTMANAGER_GROUP_INTERVAL', '5m'),
      repeat_interval: '4h',
      // The always-firing Watchdog goes to the monitor only, again at every interval (rules.yml).
      routes: [
        {
          matchers: ['alertname="Watchdog"'],
          receiver: 'watchdog',
          group_wait: '0s',
          group_interval: watchdogEvery,
          repeat_interval: watchdogEvery,
        },
      ],
    },
    receivers: [
      receiver,
      { name: 'watchdog', webhook_configs: [{ url: `${monitor}${WATCHDOG_PATH}`, send_resolved: false }] },
    ],
  });
}

if (process.argv[1]?.endsWith('alertmanager-config.ts'))
  process.stdout.write(
    `${JSON.stringify(
      configOrExit(() => alertmanagerConfig(process.env)),
      null,
      2,
    )}\n`,
  );
