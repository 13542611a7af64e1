// `npm run test:unit` runs its files in one process that keeps their loaded modules
// (vitest.unit.config.ts, isolate: false): that is safe while none of them replaces a module or
// changes the environment for the files after it (vi.stubEnv and vi.stubGlobal are undone after each test).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const SHARED_STATE = /\bvi\.(mock|doMock)\b|process\.env(\.\w+|\[[^\]]+\])\s*=[^=]|delete process\.env/;

function unitTestFiles(dir = ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory())
      return ['node_modules', '.data', '.git', 'test'].includes(entry.name) ? [] : unitTestFiles(path);
    return entry.name.endsWith('.test.ts') ? [relative(ROOT, path)] : [];
  });
}

describe('the unit test files', () => {
  it('replace no module and set no environment variable, sharing one process', () => {
    const files = unitTestFiles();
    expect(files).toContain(join('testing', 'unit-set.test.ts'));
    expect(files.some((file) => file.split(sep).includes('test'))).toBe(false);
    expect(files.filter((file) => SHARED_STATE.test(readFileSync(join(ROOT, file), 'utf8')))).toEqual([]);
  });
});
