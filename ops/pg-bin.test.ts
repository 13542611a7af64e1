// Where setup and the services find PostgreSQL's programs (ops/env.sh's pg_bin_for), and the
// production units likewise (ops/install's postgresBinFor): the version a cluster was made with,
// whichever is installed; the newest when the cluster is new or its version is gone (9.6 sorts
// below 15); PG_BIN over both. Over a made-up tree of versions, so no version or path is assumed.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresBinFor } from './install/commands';

const dir = mkdtempSync(join(tmpdir(), 'pg-bin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const root = join(dir, 'postgresql');
for (const version of ['9.6', '15', '16']) {
  mkdirSync(join(root, version, 'bin'), { recursive: true });
  for (const program of ['pg_ctl', 'postgres']) {
    writeFileSync(join(root, version, 'bin', program), '#!/bin/sh\n');
    chmodSync(join(root, version, 'bin', program), 0o755);
  }
}
/** A profile's data directory whose cluster was made by `version` (none: not made yet). */
function profile(version: string | null): string {
  const data = mkdtempSync(join(dir, 'profile-'));
  mkdirSync(join(data, 'postgres/data'), { recursive: true });
  if (version) writeFileSync(join(data, 'postgres/data/PG_VERSION'), `${version}\n`);
  return data;
}
const { PG_BIN, ...inherited } = process.env;
const pgBinFor = (data: string, env: NodeJS.ProcessEnv = {}) =>
  execFileSync('bash', ['-c', 'source ops/env.sh && pg_bin_for "$1" "$2"', '_', join(data, 'postgres/data'), root], {
    env: { ...inherited, ...env },
    encoding: 'utf8',
  }).trim();

describe("PostgreSQL's programs", () => {
  it("are the cluster's version, else the newest installed, or PG_BIN, in setup and in the units alike", () => {
    const cases: [string, NodeJS.ProcessEnv, string][] = [
      [profile('15'), {}, join(root, '15/bin')],
      [profile('9.6'), {}, join(root, '9.6/bin')],
      [profile(null), {}, join(root, '16/bin')],
      [profile('17'), {}, join(root, '16/bin')],
      [profile('15'), { PG_BIN: '/opt/pg/bin' }, '/opt/pg/bin'],
    ];
    for (const [data, env, expected] of cases) {
      expect(pgBinFor(data, env)).toBe(expected);
      expect(postgresBinFor(data, env, root)).toBe(expected);
    }
  });
});
