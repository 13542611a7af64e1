// The docs name what exists. Every path or source file a Markdown page names in backticks
// (`billing/src/run-month.ts`, or `run-month.ts` in billing's README) is a file or folder of the
// tree: relative to the page's folder, to the root, or below the page's folder. Names of files the
// platform writes at run time (`payout.csv`, `status.json`) and topics are not paths of the tree,
// so only source and docs (.ts, .md, .sh) and paths that start with a top folder are checked.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = dirname(new URL(import.meta.url).pathname);
const SKIP = new Set(['node_modules', '.data', '.git', 'generated', 'artifacts']);

function walk(dir = ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIP.has(entry.name)) return [];
    const path = join(dir, entry.name);
    return entry.isDirectory() ? [`${relative(ROOT, path)}/`, ...walk(path)] : [relative(ROOT, path)];
  });
}

const PATHLIKE = /^[\w.-]+(\/[\w.-]+)*\/?$/;

/** The paths a page names that are not in the tree. */
function missingPaths(page: string, text: string, tree: Set<string>, topFolders: Set<string>): string[] {
  const folder = dirname(page) === '.' ? '' : `${dirname(page)}/`;
  const named = [...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1] as string).filter((t) => PATHLIKE.test(t));
  const checked = named.filter(
    (t) => /\.(ts|md|sh)$/.test(t) || (t.includes('/') && topFolders.has(t.split('/')[0] as string)),
  );
  const exists = (t: string) =>
    tree.has(t) || tree.has(`${folder}${t}`) || [...tree].some((p) => p.startsWith(folder) && p.endsWith(`/${t}`));
  return [...new Set(checked.filter((t) => !exists(t)))];
}

/** The picture in docs/architecture.md: the fenced block under its first section. */
function architecturePicture(doc: string): string {
  const section = doc.split(/^## /m).find((s) => s.startsWith('From an MQTT message')) ?? '';
  return /^```\n([\s\S]*?)^```$/m.exec(section)?.[1] ?? '';
}

/** What the picture names that is not there: files (a bare name in the folder of a path drawn with it) and snake_case names. */
function missingInPicture(picture: string, tree: Set<string>, known: string): string[] {
  const paths = [...picture.matchAll(/\b[\w-]+(?:\/[\w.-]+)+\.ts\b/g)].map((m) => m[0]);
  const folders = new Set(paths.map((p) => dirname(p)));
  const bare = [...picture.matchAll(/(?<![\w/.-])[\w-]+\.ts\b/g)].map((m) => m[0]);
  const names = [...picture.matchAll(/\b[a-z]+(?:_[a-z]+)+\b/g)].map((m) => m[0]);
  return [
    ...paths.filter((p) => !tree.has(p)),
    ...bare.filter((name) => ![...folders].some((folder) => tree.has(`${folder}/${name}`))),
    ...names.filter((name) => !new RegExp(`\\b${name}\\b`).test(known)),
  ];
}

describe('docs', () => {
  const tree = new Set(walk());
  const topFolders = new Set([...tree].filter((p) => /^[^/]+\/$/.test(p)).map((p) => p.slice(0, -1)));
  const pages = [...tree].filter((p) => p.endsWith('.md'));

  it('finds a path that is not there, and accepts a file named in its component', () => {
    expect(
      missingPaths(
        'billing/README.md',
        '`src/core/price-energy.ts`, `price-energy.ts`, `lib/csv.ts`',
        tree,
        topFolders,
      ),
    ).toEqual([]);
    expect(missingPaths('billing/README.md', '`src/core/gone.ts` and `lib/gone/`', tree, topFolders)).toEqual([
      'src/core/gone.ts',
      'lib/gone/',
    ]);
    // Not paths of the tree: a topic, a URL path, a file written at run time, a MIME type.
    expect(
      missingPaths('README.md', '`solar/v1/+/telemetry` `/me/statements` `payout.csv` `text/csv`', tree, topFolders),
    ).toEqual([]);
  });

  it('names only paths that exist, on every page', () => {
    expect(pages.length).toBeGreaterThan(10);
    const problems = pages.flatMap((page) =>
      missingPaths(page, readFileSync(join(ROOT, page), 'utf8'), tree, topFolders).map((t) => `${page}: \`${t}\``),
    );
    expect(problems).toEqual([]);
  });

  it('draws the way from an MQTT message to a statement and a payout file through files and tables that exist', () => {
    const picture = architecturePicture(readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8'));
    // Tables of the schema and fields of the telemetry contract: what a snake_case name in the picture may be.
    const known = ['prisma/schema.prisma', 'lib/telemetry/contract.ts']
      .map((file) => readFileSync(join(ROOT, file), 'utf8'))
      .join('\n');
    for (const step of ['gateway/src/publisher.ts', 'ingest/src/journal.ts', 'billing/src/run-month.ts', 'statements'])
      expect(picture).toContain(step);
    expect(picture).toMatch(/payout_batches.*payout file/);
    expect(missingInPicture(picture, tree, known)).toEqual([]);
    expect(
      missingInPicture(
        'billing/src/core/bill-month.ts\n price-energy.ts, gone.ts ──► payout_rows, payout_gone',
        tree,
        known,
      ),
    ).toEqual(['gone.ts', 'payout_gone']);
  });

  it("lists every module of lib/ in lib's README", () => {
    const readme = readFileSync(join(ROOT, 'lib/README.md'), 'utf8');
    const modules = [...tree].filter((p) => /^lib\/.*\.ts$/.test(p) && !p.endsWith('.test.ts'));
    expect(modules.length).toBeGreaterThan(10);
    expect(modules.filter((m) => !readme.includes(`\`${m.slice('lib/'.length)}\``))).toEqual([]);
  });

  it("names tests after the behaviour they check, not after an issue number or a row of an issue's table", () => {
    const titled = /\b(?:it|describe|test)(?:\.each\([^)]*\))?\(\s*(['"`])(.*?)\1/g;
    const byIssue = [...tree]
      .filter((p) => p.endsWith('.test.ts'))
      .flatMap((file) =>
        [...readFileSync(join(ROOT, file), 'utf8').matchAll(titled)]
          .map((m) => m[2] as string)
          .filter((title) => /\bissue \d+|^row \d+/i.test(title))
          .map((title) => `${file}: ${title}`),
      );
    expect(byIssue).toEqual([]);
  });
});
