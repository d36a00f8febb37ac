import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../testing.ts';
import { isInFlightTemp, packLiveFiles } from './pack-live-files.ts';

const run = promisify(execFile);

describe('packLiveFiles', () => {
  it('leaves writers\' in-flight temp files out of the archive (they would be restored as stray copies)', async () => {
    const cwd = await tempDir();
    await mkdir(join(cwd, 'state'));
    await writeFile(join(cwd, 'state', 'zeroia_state.toml'), 'a = 1\n');
    await writeFile(join(cwd, 'state', 'zeroia_state.toml.tmp-1'), 'a = 2\n');
    await writeFile(join(cwd, 'state', '.zeroia_state.toml.tmp-99-ab12'), 'a = 3\n');
    await writeFile(join(cwd, 'state', 'notes.tmp'), 'x');
    const chunks: Buffer[] = [];
    for await (const chunk of packLiveFiles({ cwd, paths: ['state/'] })) chunks.push(chunk as Buffer);
    const file = join(cwd, 'out.tar');
    await writeFile(file, Buffer.concat([...chunks, Buffer.alloc(1024)]));
    const listed = (await run('tar', ['-tf', file])).stdout.trim().split('\n');
    expect(listed).toEqual(['state/', 'state/zeroia_state.toml']);
  });

  it('recognises temp names, not real state files', () => {
    for (const t of ['x.toml.tmp-1', '.x.toml.tmp-12-ab', 'y.tmp']) expect(isInFlightTemp(t), t).toBe(true);
    for (const f of ['zeroia_state.toml', 'tmp.toml', 'template.toml', 'x.tmpl']) expect(isInFlightTemp(f), f).toBe(false);
  });
});
