// Secrets are recognised by shape and by name wherever a logged value or an error line holds them.
import { describe, expect, it } from 'vitest';
import { createLogger, redactSecrets } from './logger';

describe('redactSecrets', () => {
  it.each([
    [
      'postgresql://solar_app:S3cret-pass@127.0.0.1:5432/solar',
      'postgresql://solar_app:[redacted]@127.0.0.1:5432/solar',
    ],
    ['smtp://alerts:PASS@127.0.0.1:2525', 'smtp://alerts:[redacted]@127.0.0.1:2525'],
    ['https://ghp_tokenonly@example.org/x', 'https://[redacted]@example.org/x'],
    [
      'https://api.telegram.org/bot123456:AAE-SECRET_xyz/sendMessage',
      'https://api.telegram.org/[redacted]/sendMessage',
    ],
    [
      'http://relay.local/hook?key=abc&chat=42#frag',
      'http://relay.local/hook?key=[redacted]&chat=[redacted]#[redacted]',
    ],
    ['relay failed for /bot123456:AAE-SECRET/sendMessage', 'relay failed for /bot[redacted]/sendMessage'],
    ['relay failed for /relay?key=abc123', 'relay failed for /relay?key=[redacted]'],
    ['MQTT_ADMIN_PASSWORD=hunter22 and token: abc', 'MQTT_ADMIN_PASSWORD=[redacted] and token: [redacted]'],
    ['Authorization: Bearer abcdefgh12345678', 'Authorization: Bearer [redacted]'],
  ])('%s', (text, expected) => expect(redactSecrets(text)).toBe(expected));

  it('leaves ordinary text alone', () => {
    for (const text of ['billing: 1405-08 closed', 'ingest running on 127.0.0.1:29464', 'http://127.0.0.1:8086/ping'])
      expect(redactSecrets(text)).toBe(text);
  });
});

describe('the logger', () => {
  it('censors secret-like keys and secret shapes at any depth', () => {
    const lines: string[] = [];
    const log = createLogger('redaction-test', 'info', { write: (line: string) => void lines.push(line) });
    log.info(
      {
        config: {
          databaseUrl: 'postgresql://solar_app:DbSecret1@127.0.0.1/solar',
          influx: { username: 'solar_reader', password: 'InfluxSecret1' },
          clientSecret: 'ClientSecret1',
          apiKey: 'ApiKey1',
          webhookUrls: ['https://api.telegram.org/bot1:BotSecret1/sendMessage'],
        },
      },
      'started',
    );
    log.error({ err: new Error('connect to smtp://a:MailSecret1@host failed') }, 'failed');
    const text = lines.join('');
    for (const secret of ['DbSecret1', 'InfluxSecret1', 'ClientSecret1', 'ApiKey1', 'BotSecret1', 'MailSecret1'])
      expect(text).not.toContain(secret);
    expect(text).toContain('solar_reader');
  });

  it('logs text passed as an error as its message, scrubbed (pino spread a string into characters)', () => {
    const lines: string[] = [];
    const log = createLogger('error-text-test', 'info', { write: (line: string) => void lines.push(line) });
    log.warn({ err: 'relay failed for /bot12345:TokenSecret1/sendMessage' }, 'not delivered');
    expect(JSON.parse(lines[0]!).err).toEqual({ message: 'relay failed for /bot[redacted]/sendMessage' });
  });
});
