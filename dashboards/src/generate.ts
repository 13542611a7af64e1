// `npm run dashboards`: writes every dashboard's JSON under dashboards/json/<folder>/<uid>.json
// and removes JSON files no dashboard produces any more. The JSON is committed; a test fails when
// it differs from what this writes.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { DASHBOARDS, jsonPath, renderJson } from './index';

const root = join(import.meta.dirname, '..', 'json');
const wanted = new Set<string>();
for (const spec of DASHBOARDS) {
  const file = join(root, jsonPath(spec));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, renderJson(spec));
  wanted.add(file);
  console.log(`wrote ${relative(process.cwd(), file)}`);
}
for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
  const file = join(entry.parentPath, entry.name);
  if (entry.isFile() && file.endsWith('.json') && !wanted.has(file)) {
    rmSync(file);
    console.log(`removed ${relative(process.cwd(), file)}`);
  }
}
