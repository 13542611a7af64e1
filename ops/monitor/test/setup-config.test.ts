// The Alertmanager configuration setup writes for a profile: its webhooks (the watchdog's always,
// the operators' when set) reach the monitor of that profile, which relays them.
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe("setup's Alertmanager configuration", () => {
  it("posts to this profile's monitor (MONITOR_PORT), not the default port", () => {
    // Setup ran the generator without MONITOR_PORT in its environment: every post went to 9465,
    // where no monitor listens, and no platform alert reached a receiver (seen on the clean host).
    const config = readFileSync(join(process.env.SOLAR_DATA_DIR!, 'alertmanager/alertmanager.yml'), 'utf8');
    const urls = [...config.matchAll(/"url": "([^"]+)"/g)].map((m) => m[1]);
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${process.env.MONITOR_PORT}/`));
  });

  it('restarts a service whose configuration setup changed, however the configuration is made', () => {
    // install_config records the restart in setup's shell: at the end of a pipe it ran in a subshell,
    // and a changed Alertmanager configuration (or nginx's API list) waited for some later restart.
    expect(readFileSync('ops/setup.sh', 'utf8')).not.toMatch(/\|\s*install_config/);
  });

  it.runIf(process.getuid?.() === 0)(
    "replaces a configuration keeping its owner (the service's user on a host)",
    () => {
      const setup = readFileSync('ops/setup.sh', 'utf8');
      const fn = setup.slice(
        setup.indexOf('install_config() {'),
        setup.indexOf('\n}\n', setup.indexOf('install_config() {')) + 3,
      );
      const dir = mkdtempSync(join(tmpdir(), 'solar-install-config-'));
      try {
        const file = join(dir, 'alertmanager.yml');
        writeFileSync(file, 'old\n', { mode: 0o600 });
        chownSync(file, 4242, 4242);
        const script = `changed_services=(); info() { echo "$*"; }\n${fn}\ninstall_config alertmanager "$1" <<<new\necho "\${changed_services[*]}"`;
        const out = execFileSync('bash', ['-c', script, 'bash', file], { encoding: 'utf8' });
        expect(out).toBe('alertmanager: configuration changed\nalertmanager\n');
        expect(readFileSync(file, 'utf8')).toBe('new\n');
        expect({ uid: statSync(file).uid, mode: statSync(file).mode & 0o777 }).toEqual({ uid: 4242, mode: 0o600 });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
