// Restoring the files beside the databases keeps them usable by the services that own them.
import { chownSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { restoreFiles } from '../files';
import type { BackupSettings } from '../settings';

const dir = mkdtempSync(join(tmpdir(), 'solar-restore-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('restoring the ingest journals', () => {
  // Restore runs as root; on a production host ingest runs as the platform's user (docs/production.md).
  it.runIf(process.getuid?.() === 0)("gives them the replaced journals' owner, not root's", () => {
    const ingest = join(dir, 'data/ingest');
    mkdirSync(join(ingest, 'worker-1'), { recursive: true });
    chownSync(ingest, 4242, 4242);
    const saved = join(dir, 'backup/ingest/worker-1');
    mkdirSync(saved, { recursive: true });
    writeFileSync(join(saved, 'journal.log'), 'records');
    const settings = { ingestDataDir: ingest, secretsFile: join(dir, 'data/secrets.env') } as BackupSettings;
    const files = { name: 'f', dir: join(dir, 'backup'), completedAt: '', journals: true, secrets: false };
    restoreFiles(settings, files, join(dir, 'aside'), () => {});
    for (const path of [ingest, join(ingest, 'worker-1'), join(ingest, 'worker-1/journal.log')])
      expect({ path, uid: statSync(path).uid, gid: statSync(path).gid }).toEqual({ path, uid: 4242, gid: 4242 });
    expect(statSync(join(dir, 'aside/ingest')).uid).toBe(4242); // the replaced one, kept aside
  });
});
