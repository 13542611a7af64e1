// The version a process runs: package.json's version and the commit it was started from (git
// describe), in every component's /healthz and as `solar_build_info` in its metrics, so an operator
// sees an upgrade reach every process, or stop half way (docs/upgrade.md). SOLAR_COMMIT names the
// commit where the code runs without its git directory.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Gauge, type Registry } from 'prom-client';

export interface BuildInfo {
  version: string;
  commit: string;
}

const root = fileURLToPath(new URL('..', import.meta.url));
let cached: BuildInfo | undefined;

function describeCommit(): string {
  try {
    // safe.directory: the checkout belongs to root, the services run as their own user.
    const text = execFileSync('git', ['-c', 'safe.directory=*', '-C', root, 'describe', '--always', '--dirty'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    });
    return text.trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Read once per process: a checkout changed under a running process does not change what it runs. */
export function buildInfo(env: Record<string, string | undefined> = process.env): BuildInfo {
  cached ??= {
    version: (JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { version: string }).version,
    commit: env.SOLAR_COMMIT?.trim() || describeCommit(),
  };
  return cached;
}

/** `solar_build_info{component,version,commit} 1`, the usual Prometheus shape for a version. */
export function registerBuildInfo(registry: Registry, component: string): void {
  const { version, commit } = buildInfo();
  new Gauge({
    name: 'solar_build_info',
    help: 'The version and commit this process runs (value 1)',
    labelNames: ['component', 'version', 'commit'],
    registers: [registry],
  })
    .labels(component, version, commit)
    .set(1);
}
