// Imports point one way. `lib/` is the ground floor and imports no component; a component uses
// another only through that component's documented entry (`<component>/index.ts`, listed in its
// README; for `prisma/`, the generated client); only tests in a `test/` folder, benchmarks and
// `testing/` use `testing/` (the services); the gateway (shipped alone to an installation) imports only `lib/`; a pure
// core (`<component>/src/core/`) imports only `lib/` and its own core. Every .ts file
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
  // A pure core (`<component>/src/core/`) loads nothing with I/O: another component's entry does.
  const core = /^[^/]+\/src\/core\//.exec(file)?.[0];
  if (core && !isTestCode(file) && to !== 'lib' && !target.startsWith(core))
    return `a pure core imports only lib/ and ${core}`;
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
    expect(violation('lib/config.ts', 'billing/src/core/price-energy.ts')).toMatch(/lib\/ imports no component/);
    expect(violation('lib/config.ts', 'billing/index.ts')).toMatch(/lib\/ imports no component/);
    expect(violation('api/src/errors.ts', 'billing/src/errors.ts')).toMatch(/instead of its entry billing\/index.ts/);
    expect(violation('api/src/app.ts', 'testing/api.ts')).toBe('only tests use testing/');
    expect(violation('lib/db.ts', 'testing/services.ts')).toBe('only tests use testing/');
    expect(violation('billing/src/core/price-energy.test.ts', 'testing/services.ts')).toMatch(
      /belongs in a test\/ folder/,
    );
    expect(violation('testing/api.ts', 'api/src/app.ts')).toMatch(/instead of its entry api\/index.ts/);
    expect(violation('api/src/progress.ts', 'prisma/schema.prisma')).toMatch(/generated\/client/);
    expect(violation('gateway/src/outbox.ts', 'ingest/src/journal.ts')).toMatch(/the gateway imports lib\/ only/);
    expect(violation('gateway/src/main.ts', 'simulators/index.ts')).toMatch(/the gateway imports lib\/ only/);
    expect(violation('alerts/src/core/loss.ts', 'billing/index.ts')).toMatch(
      /a pure core imports only lib\/ and alerts\/src\/core\//,
    );
    expect(violation('billing/src/core/bill-month.ts', 'billing/src/run-month.ts')).toMatch(/a pure core imports only/);
    for (const [file, target] of [
      ['api/src/errors.ts', 'billing/index.ts'],
      ['api/src/app.ts', 'lib/logger.ts'],
      ['lib/db.ts', PRISMA_CLIENT],
      ['billing/test/ledger.test.ts', 'testing/api.ts'],
      ['testing/api.ts', 'api/index.ts'],
      ['billing/src/run-month.ts', 'billing/src/errors.ts'],
      ['gateway/src/outbox.ts', 'lib/telemetry/contract.ts'],
      ['gateway/test/end-to-end.test.ts', 'simulators/index.ts'],
      ['alerts/src/core/loss.ts', 'lib/program/tariff.ts'],
      ['billing/src/core/bill-month.ts', 'billing/src/core/shares.ts'],
      ['billing/src/core/counter-energy.test.ts', 'billing/test/counter-histories.ts'],
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

  it("lists each component's entry in the component's README and in the root README", () => {
    const entries = tsFiles().filter((file) => /^[^/]+\/index\.ts$/.test(file));
    expect(entries.length).toBeGreaterThanOrEqual(3);
    const rootReadme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const entry of entries) {
      expect(rootReadme.includes(`\`${entry}\``), `README.md names the entry \`${entry}\``).toBe(true);
      const readme = join(ROOT, topFolder(entry) as string, 'README.md');
      const listed = existsSync(readme) && readFileSync(readme, 'utf8').includes('`index.ts`');
      expect(listed, `${readme} documents the entry \`index.ts\``).toBe(true);
    }
  });
});

// Each table has one owning component: only its owner's code names the table in SQL or calls
// Prisma on its model; every other component goes through the owner's entry. The import check
// cannot see a query, so this reads them: SQL keywords before a table name, and Prisma model calls.
// The owners are listed once, in docs/architecture.md ("Who owns which table").

/** Owner of each table, from the table rows of docs/architecture.md: `| \`billing/\` ... | \`billing_months\`, ... |`. */
function tableOwners(doc: string): Map<string, string> {
  const section = doc.split(/^## /m).find((s) => s.startsWith('Who owns which table')) ?? '';
  const owners = new Map<string, string>();
  for (const [, owner, tables] of section.matchAll(/^\| `(\w+)\/`[^|]*\|([^|]+)\|$/gm))
    for (const [, table] of (tables as string).matchAll(/`(\w+)`/g)) {
      if (owners.has(table as string)) throw new Error(`${table} has two owners in docs/architecture.md`);
      owners.set(table as string, owner as string);
    }
  return owners;
}
const OWNER_OF = tableOwners(readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8'));

// Where a component still reads or writes another's table directly: each line is a query to move
// behind the owner's entry. The check fails on a crossing not listed here, and on a listed one
// that is gone (so the list only shrinks). The API's lines are the registry's tables, which the API
// owned until registry/ took them: its routes, import and reads still to move behind registry/index.ts.
// Dashboards are outside it: a stock Grafana's panels reach PostgreSQL only through SQL, as the
// read-only reader role.
const KNOWN_CROSSINGS: Record<string, readonly string[]> = {};

// Views (created by hand in prisma/migrations) belong to the owner of what they read, like that
// owner's tables: only the owner's migration defines one, on the owner's tables, and only the owner
// could write through it. Others read it: a view is how an owner publishes columns for a query that
// joins them to its own tables in one statement (docs/architecture.md, after the owners' table).
const MIGRATIONS = 'prisma/migrations';

/** Each view's latest definition (migrations apply in name order): the text after `AS` up to its `;`. */
function viewDefinitions(migrations: { name: string; sql: string }[]): Map<string, string> {
  const views = new Map<string, string>();
  for (const { sql } of [...migrations].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    for (const [, view] of sql.matchAll(/\bDROP VIEW (?:IF EXISTS )?"?(\w+)"?/g)) views.delete(view as string);
    for (const [, view, body] of sql.matchAll(/\bCREATE (?:OR REPLACE )?VIEW "?(\w+)"? AS\b([^;]*);/g))
      views.set(view as string, body as string);
  }
  return views;
}

/** A view's owner: the owner of the table it selects from (the first after FROM). */
function viewOwner(body: string): string | undefined {
  const first = /\bFROM\s+"?([a-z_]+)\b/.exec(body)?.[1];
  return first === undefined ? undefined : OWNER_OF.get(first);
}

/** The tables a view's definition reads that its owner does not own. */
function viewCrossings(body: string): string[] {
  const owner = viewOwner(body);
  const read = [...body.matchAll(SQL_TABLE)].map((m) => m[1] as string).filter((t) => OWNER_OF.has(t));
  return [...new Set(read.filter((t) => OWNER_OF.get(t) !== owner))].sort();
}

// A view that reads another owner's tables, to move onto the owner's published views. Like
// KNOWN_CROSSINGS, it only shrinks.
const KNOWN_VIEW_CROSSINGS: Record<string, readonly string[]> = {};

const VIEWS = viewDefinitions(
  readdirSync(join(ROOT, MIGRATIONS), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => ({
      name: entry.name,
      sql: readFileSync(join(ROOT, MIGRATIONS, entry.name, 'migration.sql'), 'utf8'),
    })),
);

/** Prisma's client property for each table (`installationBill` for `InstallationBill` @@map installation_bills). */
function prismaAccessors(schema: string): Map<string, string> {
  const accessors = new Map<string, string>();
  for (const [, model, body] of schema.matchAll(/^model (\w+) \{([\s\S]*?)^\}/gm)) {
    const table = /@@map\("(\w+)"\)/.exec(body as string)?.[1] ?? (model as string);
    accessors.set(`${(model as string)[0]?.toLowerCase()}${(model as string).slice(1)}`, table);
  }
  return accessors;
}

const PRISMA_METHODS = [
  'findMany',
  'findUnique',
  'findUniqueOrThrow',
  'findFirst',
  'findFirstOrThrow',
  'create',
  'createMany',
  'createManyAndReturn',
  'update',
  'updateMany',
  'upsert',
  'delete',
  'deleteMany',
  'count',
  'aggregate',
  'groupBy',
];
const PRISMA_CALL = new RegExp(String.raw`\.(\w+)\s*\.\s*(?:${PRISMA_METHODS.join('|')})\(`, 'g');
const SQL_TABLE = /\b(?:FROM|JOIN|INTO|UPDATE|TABLE|TRUNCATE)\s+"?([a-z_]+)\b/g;

const SQL_WRITE = /\b(?:INTO|UPDATE|TABLE|TRUNCATE)\s+"?([a-z_]+)\b/g;

/** The tables a source file queries (SQL text or Prisma calls), and the views it writes through. */
function tablesQueried(source: string, accessors: Map<string, string>): Set<string> {
  const tables = new Set<string>();
  for (const [, name] of source.matchAll(SQL_TABLE)) if (OWNER_OF.has(name as string)) tables.add(name as string);
  for (const [, name] of source.matchAll(SQL_WRITE)) if (VIEWS.has(name as string)) tables.add(name as string);
  for (const [, accessor] of source.matchAll(PRISMA_CALL)) {
    const table = accessors.get(accessor as string);
    if (table) tables.add(table);
  }
  return tables;
}

/** The owner of a table, or of a view (the owner of what it reads). */
const ownerOf = (name: string) => OWNER_OF.get(name) ?? viewOwner(VIEWS.get(name) ?? '');

/** The tables `file` queries, and the views it writes, that another component owns. */
function crossings(file: string, source: string, accessors: Map<string, string>): string[] {
  const from = topFolder(file);
  return [...tablesQueried(source, accessors)].filter((table) => ownerOf(table) !== from).sort();
}

/** Component code that can query a table: not tests, benchmarks, test helpers, migrations or dashboards. */
const queriesCount = (file: string) =>
  topFolder(file) !== null &&
  !isTestCode(file) &&
  !['testing', 'prisma', 'dashboards'].includes(topFolder(file) as string);

describe('table ownership', () => {
  const accessors = prismaAccessors(readFileSync(join(ROOT, 'prisma/schema.prisma'), 'utf8'));

  it('gives every table of the schema exactly one owner, a component of the tree', () => {
    const tables = [...accessors.values()].sort();
    expect(tables.length).toBeGreaterThan(20);
    expect([...OWNER_OF.keys()].sort()).toEqual(tables);
    for (const owner of new Set(OWNER_OF.values()))
      expect(existsSync(join(ROOT, owner, 'README.md')), owner).toBe(true);
    expect(() => tableOwners('## Who owns which table\n| `api/` | `users` |\n| `lib/` | `users` |\n')).toThrow(
      /two owners/,
    );
  });

  it('finds a misplaced query, in SQL or through Prisma, and not the owner reading its own table', () => {
    const portal = 'api/src/portal/new-page.ts';
    expect(
      crossings(portal, 'await db.query(`SELECT payable_rials FROM statements WHERE month = $1`)', accessors),
    ).toEqual(['statements']);
    expect(crossings(portal, 'SELECT 1 FROM x JOIN "installation_bills" b ON true', accessors)).toEqual([
      'installation_bills',
    ]);
    expect(crossings(portal, 'await app.prisma.statementLine.findMany({ where: { month } })', accessors)).toEqual([
      'statement_lines',
    ]);
    expect(crossings('ingest/src/x.ts', 'INSERT INTO alerts (rule) VALUES ($1)', accessors)).toEqual(['alerts']);
    expect(crossings('billing/src/x.ts', 'UPDATE billing_months SET status = $1', accessors)).toEqual([]);
    expect(crossings('alerts/src/x.ts', 'await tx.alert.update({ where: { id } })', accessors)).toEqual([]);
    // SQL keywords are written in capitals: prose that says "from statements" is not a query.
    expect(crossings(portal, '// figures from statements and payout_batches', accessors)).toEqual([]);
    // A view is its owner's: others read it, and only its owner could write through it.
    expect(
      crossings('api/src/x.ts', 'FROM sessions s JOIN beneficiary_profiles b ON b.id = s.beneficiary_id', accessors),
    ).toEqual([]);
    expect(crossings('api/src/x.ts', 'UPDATE beneficiary_profiles SET full_name = $1', accessors)).toEqual([
      'beneficiary_profiles',
    ]);
    expect(crossings('registry/src/x.ts', 'UPDATE beneficiary_profiles SET full_name = $1', accessors)).toEqual([]);
  });

  it("gives each view its owner's tables to read, the owner of the table it selects from", () => {
    expect(VIEWS.size).toBeGreaterThanOrEqual(5);
    expect(viewOwner(VIEWS.get('beneficiary_profiles') ?? '')).toBe('registry');
    expect(viewOwner(VIEWS.get('settlements_in_force') ?? '')).toBe('billing');
    const definitions = viewDefinitions([
      { name: '1_a', sql: 'CREATE VIEW "people" AS SELECT b."id" FROM "beneficiaries" b JOIN "sessions" s ON true;' },
      { name: '2_b', sql: 'DROP VIEW "people"; CREATE VIEW "own" AS SELECT id FROM sessions;' },
    ]);
    expect([...definitions.keys()]).toEqual(['own']);
    expect(viewCrossings('SELECT b."id" FROM "beneficiaries" b JOIN "sessions" s ON true')).toEqual(['sessions']);
    const found: Record<string, string[]> = {};
    for (const [view, body] of VIEWS) {
      expect(viewOwner(body), `${view} selects from a table with an owner`).toBeDefined();
      const crossed = viewCrossings(body);
      if (crossed.length > 0) found[view] = crossed;
    }
    expect(found).toEqual(KNOWN_VIEW_CROSSINGS);
  });

  it('names every view in docs/architecture.md', () => {
    const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
    const section = doc.split(/^## /m).find((s) => s.startsWith('Who owns which table')) ?? '';
    for (const view of VIEWS.keys()) expect(section.includes(`\`${view}\``), view).toBe(true);
  });

  it('holds for every component file, apart from the crossings still listed', () => {
    const found: Record<string, string[]> = {};
    for (const file of tsFiles().filter(queriesCount)) {
      const crossed = crossings(file, readFileSync(join(ROOT, file), 'utf8'), accessors);
      if (crossed.length > 0) found[file] = crossed;
    }
    // A new crossing: query through the owner's entry instead. A listed one gone: remove its line.
    expect(found).toEqual(KNOWN_CROSSINGS);
  });
});

// The program's clock is one module (lib/program/tehran-time.ts): its zone, Tehran's offset and
// the day cut are written nowhere else, so a copy cannot drift from it. Tests, which pin instants
// as data, and comments are outside the check.
const CLOCK_OWNER = 'lib/program/tehran-time.ts';
const CLOCK_LITERALS = [
  /Asia\/Tehran/,
  /\+03:?30\b/,
  /\b3\.5 \* /,
  /\+ 3\.5\b/,
  /\b210 \* 60/,
  /\b12_?600_?000\b/,
  /\b1230m\b/,
  /time\(1h, 30m\)/,
];

/** The lines of code (comments left out) that spell the program's clock out. */
function clockCopies(source: string): string[] {
  return source
    .split('\n')
    .filter((line) => !/^\s*(\/\/|\*|\/\*)/.test(line))
    .map((line) => line.replace(/(^|\s)\/\/\s.*$/, ''))
    .filter((code) => CLOCK_LITERALS.some((literal) => literal.test(code)))
    .map((code) => code.trim());
}

describe("the program's clock", () => {
  it('finds a copy of the zone or the offset in code, and not in a comment', () => {
    expect(clockCopies("const tz = 'Asia/Tehran';")).toEqual(["const tz = 'Asia/Tehran';"]);
    expect(clockCopies('const OFFSET = 3.5 * HOUR_MS;')).toHaveLength(1);
    expect(clockCopies('const hour = ((t / H + 3.5) % 24) - 6;')).toHaveLength(1);
    expect(clockCopies("Date.parse(d + 'T12:00:00+03:30')")).toHaveLength(1);
    expect(clockCopies("const bucket = 'time(1d, 1230m)';")).toHaveLength(1);
    expect(clockCopies('// Tehran is UTC+03:30 (Asia/Tehran)\nconst x = 1; // 3.5 * H after midnight')).toEqual([]);
  });

  it(`is written only in ${CLOCK_OWNER}`, () => {
    const found: Record<string, string[]> = {};
    for (const file of tsFiles().filter((f) => topFolder(f) !== null && !isTestCode(f) && f !== CLOCK_OWNER)) {
      const copies = clockCopies(readFileSync(join(ROOT, file), 'utf8'));
      if (copies.length > 0) found[file] = copies;
    }
    // Import TEHRAN_TIME_ZONE, tehranDate, tehranMidnight, tehranHour... from lib/program/tehran-time.ts.
    expect(found).toEqual({});
  });
});
