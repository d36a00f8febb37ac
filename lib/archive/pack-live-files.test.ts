import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../testing.ts';
import { isInFlightTemp, packLiveFiles } from './pack-live-files.ts';
import { packedText } from './testing.ts';

const run = promisify(execFile);

describe('packLiveFiles', () => {
  it("leaves writers' in-flight temp files out of the archive (they would be restored as stray copies)", async () => {
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
    // As the packer of other archives (not live state) it keeps them, as tar would.
    const all: Buffer[] = [];
    for await (const chunk of packLiveFiles({ cwd, paths: ['state/'], skipInFlightTemp: false }))
      all.push(chunk as Buffer);
    await writeFile(file, Buffer.concat([...all, Buffer.alloc(1024)]));
    expect((await run('tar', ['-tf', file])).stdout.trim().split('\n')).toEqual([
      'state/',
      'state/.zeroia_state.toml.tmp-99-ab12',
      'state/notes.tmp',
      'state/zeroia_state.toml',
      'state/zeroia_state.toml.tmp-1',
    ]);
  });

  it('streams files above maxBuffered in chunks read off the main thread, and fails by name on a file that shrinks meanwhile', async () => {
    const cwd = await tempDir();
    await mkdir(join(cwd, 'models'));
    const big = Buffer.alloc(700 * 1024 + 3, 7);
    await writeFile(join(cwd, 'models', 'w.bin'), big);
    const chunks: Buffer[] = [];
    for await (const chunk of packLiveFiles({ cwd, paths: ['models/'], maxBuffered: 1024, skipInFlightTemp: false }))
      chunks.push(chunk as Buffer);
    const file = join(cwd, 'out.tar');
    await writeFile(file, Buffer.concat(chunks));
    const target = join(cwd, 'x');
    await mkdir(target);
    await run('tar', ['-xf', file, '-C', target]);
    expect((await readFile(join(target, 'models', 'w.bin'))).equals(big)).toBe(true);

    // Truncated after the packer has read its size: the archive fails, naming the file.
    const reading = packLiveFiles({ cwd, paths: ['models/'], maxBuffered: 1024 });
    const iterator = reading[Symbol.asyncIterator]();
    await iterator.next(); // the folder and the file's header: its size is known now
    await truncate(join(cwd, 'models', 'w.bin'), 1000);
    await expect(
      (async () => {
        for (let r = await iterator.next(); !r.done; r = await iterator.next());
      })(),
    ).rejects.toThrow(`${join(cwd, 'models', 'w.bin')} shrank while it was read`);
  });

  it('recognises temp names, not real state files', () => {
    for (const t of ['x.toml.tmp-1', '.x.toml.tmp-12-ab', 'y.tmp']) expect(isInFlightTemp(t), t).toBe(true);
    for (const f of ['zeroia_state.toml', 'tmp.toml', 'template.toml', 'x.tmpl'])
      expect(isInFlightTemp(f), f).toBe(false);
  });

  it('reads again a file caught mid in-place rewrite (truncated, not yet written), and keeps a settled one as it is', async () => {
    const cwd = await tempDir();
    await mkdir(join(cwd, 'state'));
    const state = join(cwd, 'state', 'zeroia_state.toml');
    const packed = () => packedText(cwd, ['state/'], 'state/zeroia_state.toml');
    const writeLater = (text: string, ms: number) =>
      new Promise<void>((resolve) => setTimeout(() => void writeFile(state, text).then(() => resolve()), ms));
    // The state exists; the writer has just truncated it, and was descheduled (a loaded
    // machine): its write lands 200 ms later, while the packer looks.
    await writeFile(state, 'last_decision = "init"\n');
    await new Promise((r) => setTimeout(r, 100));
    await writeFile(state, '');
    const writing = writeLater('last_decision = "monitor"\n', 200);
    expect(await packed()).toBe('last_decision = "monitor"\n');
    await writing;
    // An empty file nobody is writing (it has been empty for a while) is archived empty.
    await writeFile(state, '');
    await utimes(state, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    expect(await packed()).toBe('');
    // A file just created empty (a fresh copy's .gitkeep) is not a truncated one: archived as it is, no wait.
    await rm(state);
    await writeFile(state, '');
    const created = writeLater('written = "later"\n', 200);
    expect(await packed()).toBe('');
    await created;
  });

  it('looks again at a file replaced since its folder was listed: a symlink is archived as one, a FIFO refused without waiting on it', async () => {
    const cwd = await tempDir();
    await mkdir(join(cwd, 'state'));
    for (const name of ['a.toml', 'b.toml', 'c.toml']) await writeFile(join(cwd, 'state', name), `${name} = 1\n`);
    const pack = async (replace: (path: string) => Promise<void>) => {
      const chunks: Buffer[] = [];
      // Called with a.toml's bytes, after the folder was listed (b.toml a regular file then).
      const onFile = (member: string) =>
        member === 'state/a.toml' ? replace(join(cwd, 'state', 'b.toml')) : undefined;
      for await (const chunk of packLiveFiles({ cwd, paths: ['state/'], onFile })) chunks.push(chunk as Buffer);
      const file = join(cwd, 'out.tar');
      await writeFile(file, Buffer.concat(chunks));
      return (await run('tar', ['-tvf', file])).stdout;
    };
    const listed = await pack(async (b) => {
      await rm(b);
      await symlink('a.toml', b);
    });
    expect(listed).toMatch(/^l.* state\/b\.toml -> a\.toml$/m);
    expect(listed).toMatch(/^-.* state\/c\.toml$/m);
    await expect(
      pack(async (b) => {
        await rm(b);
        await run('mkfifo', [b]);
      }),
    ).rejects.toMatchObject({ code: 'EUNSUPPORTED', path: join(cwd, 'state', 'b.toml') });
  });
});
