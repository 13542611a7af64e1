// Alertmanager's configuration from the platform's notification settings: the platform's own alerts
// go to the same webhooks and e-mail recipients as the technicians' (alerts/README.md:
// ALERTS_WEBHOOK_URLS, ALERTS_EMAIL_TO, ALERTS_EMAIL_FROM, ALERTS_SMTP_URL). JSON is YAML, so
// the configuration is written as JSON. `tsx ops/monitor/alertmanager-config.ts` prints it (setup).
import { type Env, EnvReader } from '../../lib/config';

const list = (text: string | undefined) =>
  (text ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

export function alertmanagerConfig(env: Env): Record<string, unknown> {
  const r = new EnvReader(env);
  const webhooks = list(env.ALERTS_WEBHOOK_URLS);
  const emailTo = list(env.ALERTS_EMAIL_TO);
  const smtp = env.ALERTS_SMTP_URL?.trim() ? new URL(env.ALERTS_SMTP_URL.trim()) : null;
  if (emailTo.length > 0 && !smtp) r.problems.push('ALERTS_EMAIL_TO needs ALERTS_SMTP_URL');
  const port = smtp?.port || (smtp?.protocol === 'smtps:' ? '465' : '25');
  const global = smtp
    ? {
        smtp_smarthost: `${smtp.hostname}:${port}`,
        smtp_from: r.string('ALERTS_EMAIL_FROM', 'alerts@solar.invalid'),
        ...(smtp.username ? { smtp_auth_username: decodeURIComponent(smtp.username) } : {}),
        ...(smtp.password ? { smtp_auth_password: decodeURIComponent(smtp.password) } : {}),
        // smtps:// is TLS from the first byte (port 465); smtp:// on loopback needs no STARTTLS.
        smtp_require_tls: smtp.protocol === 'smtp:' && !['127.0.0.1', 'localhost', '[::1]'].includes(smtp.hostname),
      }
    : {};
  const receiver: Record<string, unknown> = { name: 'platform' };
  if (webhooks.length > 0) receiver.webhook_configs = webhooks.map((url) => ({ url, send_resolved: true }));
  if (emailTo.length > 0) receiver.email_configs = emailTo.map((to) => ({ to, send_resolved: true }));
  return r.done({
    global,
    route: {
      receiver: 'platform',
      group_by: ['alertname', 'dependency', 'worker'],
      group_wait: r.string('ALERTMANAGER_GROUP_WAIT', '30s'),
      group_interval: r.string('ALERTMANAGER_GROUP_INTERVAL', '5m'),
      repeat_interval: '4h',
    },
    receivers: [receiver],
  });
}

if (process.argv[1]?.endsWith('alertmanager-config.ts'))
  process.stdout.write(`${JSON.stringify(alertmanagerConfig(process.env), null, 2)}\n`);
