// The operator's settings file (docs/production.md, step 3) outlives setup: setup rewrites
// platform.env on every run, an upgrade included, so settings kept only there (or only in the shell
// that ran the first setup) were silently lost. ops/env.sh reads the file for every ops script, the
// environment wins over it, and setup appends the settings in effect to platform.env for the units.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'settings-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Sources ops/env.sh with `settings` as the operator's file, then runs `script`. */
function withSettings(settings: string, script: string, environment: Record<string, string> = {}) {
  const file = join(dir, `settings-${Math.random().toString(36).slice(2)}.env`);
  writeFileSync(file, settings);
  const { PROXY_HTTPS_PORT, ALERTS_WEBHOOK_URLS, ...inherited } = process.env;
  return spawnSync('bash', ['-c', `set -euo pipefail; source ops/env.sh; ${script}`], {
    env: { ...inherited, SOLAR_PROFILE: 'test', SOLAR_SETTINGS_FILE: file, ...environment },
    encoding: 'utf8',
  });
}

describe("the operator's settings file", () => {
  const settings = [
    '# the production host',
    'PROXY_HTTPS_PORT=443',
    '',
    'ALERTS_WEBHOOK_URLS=https://hooks.example/a b',
    'ALERTS_SMTP_URL=smtps://ops:settings-sentinel-7Q@mail.example:465',
  ].join('\n');

  it("sets the ports and the components' settings of every ops script, the environment winning", () => {
    const r = withSettings(settings, 'echo "$PROXY_HTTPS_PORT|$ALERTS_WEBHOOK_URLS"; printenv ALERTS_SMTP_URL');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('443|https://hooks.example/a b\nsmtps://ops:settings-sentinel-7Q@mail.example:465\n');
    const overridden = withSettings(settings, 'echo "$PROXY_HTTPS_PORT"', { PROXY_HTTPS_PORT: '8443' });
    expect(overridden.stdout).toBe('8443\n');
  });

  it('is written into platform.env as in effect, so the units get it after every setup', () => {
    const r = withSettings(settings, 'operator_settings_env', { ALERTS_WEBHOOK_URLS: 'https://hooks.example/now' });
    expect(r.stdout.split('\n').slice(1)).toEqual([
      'PROXY_HTTPS_PORT=443',
      'ALERTS_WEBHOOK_URLS=https://hooks.example/now',
      'ALERTS_SMTP_URL=smtps://ops:settings-sentinel-7Q@mail.example:465',
      '',
    ]);
    expect(withSettings('', 'operator_settings_env').stdout).toBe('');
  });

  it('refuses a line that is not NAME=value, naming the line and never printing its text', () => {
    const r = withSettings(
      `PROXY_HTTPS_PORT=443\nexport ALERTS_SMTP_URL=smtps://ops:settings-sentinel-7Q@m\n`,
      'echo ran',
    );
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/line 2 is not NAME=value/);
    expect(r.stderr).not.toContain('settings-sentinel-7Q');
  });
});
