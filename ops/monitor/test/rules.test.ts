// The platform's alerting rules: valid for this Prometheus, each with a severity and a runbook, and
// behaving as their unit tests say (promtool test rules: series in, alerts with labels and text out).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const RULES = 'ops/monitor/rules.yml';

describe('platform alerting rules', () => {
  it('are valid rules, each with a severity and a runbook', async () => {
    const { stdout } = await run('promtool', ['check', 'rules', RULES]);
    const text = readFileSync(RULES, 'utf8');
    const alerts = text.match(/^ {6}- alert: /gm)?.length ?? 0;
    expect(stdout).toContain(`SUCCESS: ${alerts} rules found`);
    // Every alert for people is a warning or critical; the watchdog, for the monitor only, none.
    expect(text.match(/^ {8}labels: \{ severity: (warning|critical) \}$/gm)?.length).toBe(alerts - 1);
    expect(text).toMatch(/- alert: Watchdog\n {8}expr: vector\(1\)\n {8}labels: \{ severity: none \}\n/);
    expect(text.match(/^ {10}runbook: /gm)?.length).toBe(alerts);
  });

  it('fire and resolve as their unit tests expect', async () => {
    const result = await run('promtool', ['test', 'rules', 'rules.test.yml'], { cwd: 'ops/monitor' }).catch(
      (error: { stdout: string; stderr: string }) => error,
    );
    expect(`${result.stdout}${result.stderr}`).toContain('SUCCESS');
  });
});
