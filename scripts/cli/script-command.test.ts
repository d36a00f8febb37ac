import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../lib/testing.ts';
import { scriptCommand } from './script-command.ts';

// An install whose dist/ records one source (bin/dist-entry.mjs's record): fresh while the
// source is as recorded, stale once it changes.
async function install(): Promise<{ dir: string; source: string }> {
  const dir = await tempDir('ark-install-');
  await mkdir(join(dir, 'dist'));
  await mkdir(join(dir, 'scripts'));
  const source = join(dir, 'scripts', 'full-backup.mts');
  await writeFile(source, 'console.log(1);\n');
  const info = statSync(source);
  const sha256 = createHash('sha256').update('console.log(1);\n').digest('hex');
  await writeFile(
    join(dir, 'dist', 'build-info.json'),
    JSON.stringify({
      version: 1,
      builtAt: new Date().toISOString(),
      inputs: { 'scripts/full-backup.mts': { size: info.size, mtimeMs: info.mtimeMs, sha256 } },
    }),
  );
  await writeFile(join(dir, 'dist', 'full-backup.mjs'), 'console.log(1);\n');
  return { dir, source };
}

describe('scriptCommand', () => {
  it('runs the bundle while dist/ was built from the sources as they are, the sources otherwise', async () => {
    const { dir, source } = await install();
    expect(scriptCommand(dir, 'full-backup', { fromSources: false, tsx: '/tsx' })).toEqual({
      args: [join(dir, 'dist', 'full-backup.mjs')],
      runs: 'dist/full-backup.mjs',
    });
    const sources = { args: ['--import', '/tsx', source], runs: 'scripts/full-backup.mts' };
    // ARK_FROM_SOURCES=1: the sources, whatever dist/ holds.
    expect(scriptCommand(dir, 'full-backup', { fromSources: true, tsx: '/tsx' })).toEqual(sources);
    // A script dist/ has no bundle of (bench): its sources.
    expect(scriptCommand(dir, 'bench', { fromSources: false, tsx: '/tsx' }).runs).toBe('scripts/bench.mts');
    // A source changed since the build: the sources, never a stale bundle.
    await writeFile(source, 'console.log(2);\n');
    expect(scriptCommand(dir, 'full-backup', { fromSources: false, tsx: '/tsx' })).toEqual(sources);
    // No dist/ at all.
    expect(scriptCommand(await tempDir(), 'full-backup', { fromSources: false, tsx: '/tsx' }).runs).toBe(
      'scripts/full-backup.mts',
    );
  });
});
