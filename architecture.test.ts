// Imports point one way. `lib/` is the ground floor and imports no component; a component uses
// another only through that component's documented entry (`<component>/index.ts`, listed in its
// README; for `prisma/`, the generated client); only tests in a `test/` folder, benchmarks and
// `testing/` use `testing/` (the services); the gateway (shipped alone to an installation) imports only `lib/`. Every .ts file
// of the tree is read and every relative import resolved to a file.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = dirname(new URL(import.meta.url).pathname);
const SKIP = new Set(['node_modules', '.data', '.git', 'generated']);
const PRISMA_CLIENT = 'prisma/generated/client/client.ts';

/** Module specifiers of a Biome-formatted file: static imports and re-exports start a line. */
function importsOf(source: string): string[] {
  const statics = source.matchAll(/^(?:import|export)\s(?:[^;'"]*?\sfrom\s*)?['"]([^'"]+)['"]/gm);
  const dynamics = source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g);
  return [...statics, ...dynamics].map((m) => m[1] as string);
}

const topFolder = (file: string) => (file.includes('/') ? (file.split('/')[0] as string) : null);
const isTestCode = (file: string) => /(^|\/)(test|bench)\//.test(file) || file.endsWith('.test.ts');
// Tests that use the real services live in a `test/` folder; `npm run test:unit` runs every other one.
const inServiceTestFolder = (file: string) => /(^|\/)(test|bench)\//.test(file);

/** Why importing `target` from `file` (both relative to the root) breaks the direction, or null. */
function violation(file: string, target: string): string | null {
  const from = topFolder(file);
  const to = topFolder(target);
  if (from === null || to === null || from === to) return null;
  if (to === 'testing') {
    if (inServiceTestFolder(file) || from === 'testing') return null;
    return isTestCode(file)
      ? 'a test that uses testing/ (the services) belongs in a test/ folder'
      : 'only tests use testing/';
  }
  if (from === 'lib' && to !== 'prisma') return `lib/ imports no component (${to}/)`;
  if (to === 'lib') return null;
  // The gateway ships alone to the box at an installation (one bundled file): only lib/ comes along.
  if (from === 'gateway' && !isTestCode(file)) return `the gateway imports lib/ only, not ${to}/`;
  const entry = to === 'prisma' ? PRISMA_CLIENT : `${to}/index.ts`;
  return target === entry ? null : `reaches into ${to}/ instead of its entry ${entry}`;
}

function resolveImport(file: string, specifier: string): string | null {
  const base = normalize(join(dirname(file), specifier));
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')])
    if (existsSync(join(ROOT, candidate)) && statSync(join(ROOT, candidate)).isFile()) return candidate;
  return null;
}

function tsFiles(dir = ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIP.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') ? [relative(ROOT, path)] : [];
  });
}

describe('import direction', () => {
  it('reads static, type, re-export and dynamic imports, multi-line ones too, and not comments', () => {
    const source = [
      "import { a } from '../a';",
      "import type { B } from '../b';",
      'import {',
      '  c,',
      '  d,',
      "} from '../c';",
      "import '../side-effect';",
      "export * from '../e';",
      "export { f } from '../f';",
      "export const g = 'not-an-import';",
      "// import { h } from '../commented';",
      "const h = await import('../h');",
    ].join('\n');
    expect(importsOf(source)).toEqual(['../a', '../b', '../c', '../side-effect', '../e', '../f', '../h']);
  });

  it('names each kind of wrong import', () => {
    expect(violation('lib/config.ts', 'billing/src/core/tariff.ts')).toMatch(/lib\/ imports no component/);
    expect(violation('lib/config.ts', 'billing/index.ts')).toMatch(/lib\/ imports no component/);
    expect(violation('api/src/errors.ts', 'billing/src/errors.ts')).toMatch(/instead of its entry billing\/index.ts/);
    expect(violation('api/src/app.ts', 'testing/api.ts')).toBe('only tests use testing/');
    expect(violation('lib/db.ts', 'testing/services.ts')).toBe('only tests use testing/');
    expect(violation('billing/src/core/tariff.test.ts', 'testing/services.ts')).toMatch(/belongs in a test\/ folder/);
    expect(violation('testing/api.ts', 'api/src/app.ts')).toMatch(/instead of its entry api\/index.ts/);
    expect(violation('api/src/progress.ts', 'prisma/schema.prisma')).toMatch(/generated\/client/);
    expect(violation('gateway/src/outbox.ts', 'ingest/src/journal.ts')).toMatch(/the gateway imports lib\/ only/);
    expect(violation('gateway/src/main.ts', 'simulators/index.ts')).toMatch(/the gateway imports lib\/ only/);
    for (const [file, target] of [
      ['api/src/errors.ts', 'billing/index.ts'],
      ['api/src/app.ts', 'lib/logger.ts'],
      ['lib/db.ts', PRISMA_CLIENT],
      ['billing/test/ledger.test.ts', 'testing/api.ts'],
      ['testing/api.ts', 'api/index.ts'],
      ['billing/src/run-month.ts', 'billing/src/errors.ts'],
      ['gateway/src/outbox.ts', 'lib/telemetry/contract.ts'],
      ['gateway/test/end-to-end.test.ts', 'simulators/index.ts'],
    ])
      expect(violation(file as string, target as string)).toBeNull();
  });

  it('holds for every .ts file in the tree', () => {
    const files = tsFiles();
    expect(files.length).toBeGreaterThan(50);
    const problems: string[] = [];
    let relativeImports = 0;
    // Root files (tool configuration, this test) stand outside the house.
    for (const file of files.filter((f) => topFolder(f) !== null)) {
      for (const specifier of importsOf(readFileSync(join(ROOT, file), 'utf8'))) {
        if (!specifier.startsWith('.')) continue;
        relativeImports++;
        const target = resolveImport(file, specifier);
        if (target === null) problems.push(`${file}: '${specifier}' resolves to no file`);
        else {
          const why = violation(file, target);
          if (why) problems.push(`${file}: '${specifier}' ${why}`);
        }
      }
    }
    expect(relativeImports).toBeGreaterThan(200);
    expect(problems).toEqual([]);
  });

  it("lists each component's entry in the component's README", () => {
    const entries = tsFiles().filter((file) => /^[^/]+\/index\.ts$/.test(file));
    expect(entries.length).toBeGreaterThanOrEqual(3);
    for (const entry of entries) {
      const readme = join(ROOT, topFolder(entry) as string, 'README.md');
      const listed = existsSync(readme) && readFileSync(readme, 'utf8').includes('`index.ts`');
      expect(listed, `${readme} documents the entry \`index.ts\``).toBe(true);
    }
  });
});
