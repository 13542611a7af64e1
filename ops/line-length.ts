// No source line over 160 characters (`npm run lint`, part of `npm test`). Biome formats code to 120
// columns but leaves what it cannot break alone: strings, templates, comments, regular expressions
// and shell. Those are broken by hand (a string as a concatenation, a comment over lines); a line
// still longer is hard to read in a review and in a diff. Reads every .ts and .sh file git tracks
// or would track; counts characters, not bytes, so Persian text is measured as it reads.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const MAX_LINE_CHARACTERS = 160;

/** `file:line: N characters` for each line of `text` longer than the limit. */
export function longLines(file: string, text: string, limit = MAX_LINE_CHARACTERS): string[] {
  return text.split('\n').flatMap((line, i) => {
    const characters = [...line].length;
    return characters > limit ? [`${file}:${i + 1}: ${characters} characters`] : [];
  });
}

/** The long lines of the tree at `root`. */
export function longLinesInTree(root: string): string[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts', '*.sh'], {
    cwd: root,
    encoding: 'utf8',
  });
  const files = listed.split('\n').filter((file) => file !== '');
  return files.flatMap((file) => {
    try {
      return longLines(file, readFileSync(join(root, file), 'utf8'));
    } catch (error) {
      // Deleted in the working tree but still in the index: nothing to read.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  });
}

if (process.argv[1]?.endsWith('line-length.ts')) {
  const found = longLinesInTree(join(import.meta.dirname, '..'));
  if (found.length > 0) {
    console.error(found.join('\n'));
    console.error(
      `error: ${found.length} line(s) over ${MAX_LINE_CHARACTERS} characters: ` +
        'break a string into a concatenation and a comment over several lines',
    );
    process.exit(1);
  }
}
