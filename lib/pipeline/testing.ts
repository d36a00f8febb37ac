import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseManifest, type BackupManifest } from '../checksum/index.ts';
import { recordingSink, type ArkEvent } from '../events.ts';
import { resolvePolicy } from '../policy/index.ts';
import { copyFixture } from '../testing.ts';
import { runFullBackup, type FullBackupOptions } from './backup.ts';

// Test helpers for recovery points: a root with a models folder, a backup at a given local
// time, and what a test asks of its manifest. Not used by production code.

export async function fixture(): Promise<string> {
  const root = await copyFixture();
  await mkdir(join(root, 'models', 'blobs'), { recursive: true });
  await writeFile(join(root, 'models', 'blobs', 'sha256-01'), randomBytes(512 * 1024));
  return root;
}

export const policy = resolvePolicy({ datasets: { models: { paths: ['models/'] } } }, 'test');

export async function backup(root: string, backupDir: string, at: string, extra: Partial<FullBackupOptions> = {}) {
  const sink = recordingSink();
  const report = await runFullBackup({
    root,
    backupDir,
    date: at.slice(0, 10).replaceAll('-', ''),
    policy,
    sink,
    gitCommit: async () => null,
    host: 'test',
    now: () => new Date(at),
    ...extra,
  });
  const manifest = parseManifest(await readFile(join(report.dir, `backup_manifest_${report.date}.json`), 'utf8'));
  return { report, sink, manifest, events: sink.events };
}

export const entry = (m: BackupManifest, name: string) => m.archives!.find((a) => a.name === name)!;
export const inode = async (path: string) => (await stat(path)).ino;
export const warnings = (events: ArkEvent[]) =>
  events.filter((e): e is Extract<ArkEvent, { kind: 'warning' }> => e.kind === 'warning').map((e) => e.code);
