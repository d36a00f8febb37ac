import * as fs from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { tempDir } from '../testing.ts';
import { packedText } from './testing.ts';

// The race a live stack loses now and then: a writer that rewrites in place (ZeroIA, every
// open("w") writer) truncates the file between the packer's fstat and its read. Forced here by
// running the writer's truncate-and-write right after the packer's fstat of that file.
const race = vi.hoisted(() => ({ path: '', rewrite: null as null | ((fd: number) => void) }));
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const fstatSync = ((fd: number, options?: fs.StatOptions) => {
    const info = real.fstatSync(fd, options);
    const rewrite = race.rewrite;
    race.rewrite = null;
    rewrite?.(fd);
    return info;
  }) as typeof real.fstatSync;
  return { ...real, default: { ...real, fstatSync }, fstatSync };
});

const packed = (cwd: string, member: string) => packedText(cwd, ['state/'], member);

describe('packLiveFiles and a file rewritten in place between its fstat and its read', () => {
  it('reads it again and archives the new version whole, instead of failing the backup', async () => {
    const cwd = await tempDir();
    await mkdir(join(cwd, 'state'));
    const state = join(cwd, 'state', 'zeroia_state.toml');
    await writeFile(state, 'last_decision = "initialisation complete"\nconfidence = 0.5\n');
    race.rewrite = () => {
      fs.truncateSync(state, 0); // the writer's open("w")...
      fs.writeFileSync(state, 'last_decision = "monitor"\n'); // ...and its shorter write
    };
    expect(await packed(cwd, 'state/zeroia_state.toml')).toBe('last_decision = "monitor"\n');
    expect(race.rewrite).toBeNull(); // the rewrite did land between the fstat and the read
  });

  it('caught between the truncate and the write, it waits for the write', async () => {
    const cwd = await tempDir();
    await mkdir(join(cwd, 'state'));
    const state = join(cwd, 'state', 'zeroia_state.toml');
    await writeFile(state, 'last_decision = "initialisation complete"\n');
    await new Promise((r) => setTimeout(r, 100)); // an existing file, not one just created
    let written: Promise<void> | undefined;
    race.rewrite = () => {
      fs.truncateSync(state, 0);
      written = new Promise((resolve) =>
        setTimeout(() => resolve(writeFile(state, 'last_decision = "monitor"\n')), 150),
      );
    };
    expect(await packed(cwd, 'state/zeroia_state.toml')).toBe('last_decision = "monitor"\n');
    await written;
  });
});
