import pino, { type Logger } from 'pino';

// Personal data never reaches the logs: these keys are censored wherever they appear.
const PERSONAL_KEYS = [
  'nationalCode',
  'national_code',
  'sheba',
  'iban',
  'pin',
  'password',
  'mobile',
  'token',
  'authorization',
];

export function createLogger(component: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name: component,
    level,
    redact: { paths: [...PERSONAL_KEYS, ...PERSONAL_KEYS.map((k) => `*.${k}`)], censor: '[redacted]' },
  });
}

export type { Logger };
