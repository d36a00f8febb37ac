import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { sha256Buffer, sha256File } from '../checksum/index.ts';
import { copyFixture, tempDir, treeContents } from '../testing.ts';
import { createArchive, extractArchive, listArchive, type ExtractedFile } from './index.ts';
import { tarEntry, tarGz } from './testing.ts';

const run = promisify(execFile);

describe('createArchive', () => {
  it('writes a tarball GNU tar lists and extracts byte-identically, hashed while written', async () => {
    const root = await copyFixture();
    const out = join(await tempDir(), 'states.tar.gz');
    const result = await createArchive({
      cwd: root,
      paths: ['modules/zeroia/state/', 'state/', '.env'],
      file: out,
      mode: 0o600,
    });
    expect(result.sha256).toBe((await sha256File(out)).sha256);
    expect(result.bytes).toBe((await stat(out)).size);
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    const listed = (await run('tar', ['-tzf', out])).stdout.trim().split('\n');
    expect(listed).toContain('modules/zeroia/state/zeroia_state.toml');
    expect(listed).toContain('.env');
    expect(result.members).toBe(listed.length);
    const target = await tempDir();
    await run('tar', ['-xzf', out, '-C', target]);
    const restored = await treeContents(target);
    const original = await treeContents(root);
    for (const [path, content] of restored) expect(content.equals(original.get(path)!), path).toBe(true);
    expect(restored.size).toBe(
      [...original.keys()].filter(
        (p) => p.startsWith('modules/zeroia/state/') || p.startsWith('state/') || p === '.env',
      ).length,
    );
  });

  it('fails, and refuses to overwrite, when the output exists', async () => {
    const root = await copyFixture();
    const out = join(await tempDir(), 'x.tar.gz');
    await writeFile(out, 'precious');
    await expect(createArchive({ cwd: root, paths: ['state/'], file: out })).rejects.toThrow(/EEXIST/);
    expect(await readFile(out, 'utf8')).toBe('precious');
  });

  it('fails when a listed path cannot be read', async () => {
    const root = await copyFixture();
    await expect(
      createArchive({ cwd: root, paths: ['no-such-dir/'], file: join(await tempDir(), 'y.tar.gz') }),
    ).rejects.toThrow(/ENOENT/);
  });
});

describe('listArchive / extractArchive', () => {
  it('extracts only the selected members', async () => {
    const root = await copyFixture();
    const out = join(await tempDir(), 's.tar.gz');
    await createArchive({ cwd: root, paths: ['modules/', 'state/'], file: out });
    const target = await tempDir();
    const { extracted } = await extractArchive({
      file: out,
      cwd: target,
      select: (p) => p.startsWith('modules/zeroia/state/'),
    });
    expect(extracted).toContain('modules/zeroia/state/zeroia_state.toml');
    expect(await readdir(target)).toEqual(['modules']);
    expect(await readdir(join(target, 'modules'))).toEqual(['zeroia']);
  });

  it('reports each file with the sha256 of the bytes it wrote, and the bytes of the ones asked for', async () => {
    const root = await copyFixture();
    const out = join(await tempDir(), 's.tar.gz');
    await createArchive({ cwd: root, paths: ['modules/', 'state/'], file: out });
    const target = await tempDir();
    const reported = new Map<string, { file: ExtractedFile; content: Buffer | null }>();
    await extractArchive({
      file: out,
      cwd: target,
      keepContent: (p) => p.endsWith('.toml'),
      onFile: (path, file, content) => void reported.set(path, { file, content }),
    });
    const onDisk = await treeContents(target);
    expect([...reported.keys()].sort()).toEqual([...onDisk.keys()].sort());
    for (const [path, bytes] of onDisk) {
      expect(reported.get(path)!.file).toEqual({ sha256: sha256Buffer(bytes), bytes: bytes.length, written: true });
      if (path.endsWith('.toml')) expect(reported.get(path)!.content?.equals(bytes)).toBe(true);
      else expect(reported.get(path)!.content).toBeNull();
    }
    expect([...onDisk.keys()].some((p) => !p.endsWith('.toml'))).toBe(true);
  });

  it('does not write a file whose bytes a regular file at `sameAs` already holds; anything else there is no reason not to', async () => {
    const big = Buffer.alloc(1024 * 1024 + 1, 'b');
    const members: Record<string, Buffer> = {
      same: Buffer.from('score = 1\n'),
      differs: Buffer.from('score = 2\n'),
      longer: Buffer.from('score = 3\n'),
      absent: Buffer.from('x = 1\n'),
      link: Buffer.from('score = 1\n'),
      fifo: Buffer.from('f = 1\n'),
      folder: Buffer.from('d = 1\n'),
      big,
      empty: Buffer.alloc(0),
    };
    const dir = await tempDir();
    const file = join(dir, 'a.tar.gz');
    await writeFile(
      file,
      tarGz(Object.entries(members).map(([name, data]) => tarEntry({ name: `s/${name}`, type: '0', data }))),
    );
    const live = join(dir, 'live');
    await mkdir(join(live, 's', 'folder'), { recursive: true });
    await writeFile(join(live, 's', 'same'), members.same!);
    await writeFile(join(live, 's', 'differs'), 'score = 9\n');
    await writeFile(join(live, 's', 'longer'), 'score = 3\nmore = 1\n');
    await writeFile(join(live, 's', 'target'), members.link!);
    await symlink('target', join(live, 's', 'link')); // same bytes, through a link: not trusted
    await run('mkfifo', [join(live, 's', 'fifo')]); // opening it must not block
    await writeFile(join(live, 's', 'big'), big); // past 1 MiB: written, not compared
    await writeFile(join(live, 's', 'empty'), '');
    const target = join(dir, 'out');
    await mkdir(target);
    const written = new Map<string, ExtractedFile>();
    await extractArchive({
      file,
      cwd: target,
      sameAs: (path) => join(live, path),
      onFile: (path, f) => void written.set(path, f),
    });
    const left = ['s/same', 's/empty'];
    for (const [name, data] of Object.entries(members)) {
      const path = `s/${name}`;
      expect(written.get(path), path).toEqual({
        sha256: sha256Buffer(data),
        bytes: data.length,
        written: !left.includes(path),
      });
    }
    expect((await readdir(join(target, 's'))).sort()).toEqual(
      Object.keys(members)
        .filter((n) => !left.includes(`s/${n}`))
        .sort(),
    );
    expect(await readFile(join(live, 's', 'differs'), 'utf8')).toBe('score = 9\n'); // the live tree is only read
  });

  it('waits for what onFile returns (backpressure from the caller), and fails with its rejection', async () => {
    const entries = Array.from({ length: 40 }, (_, i) =>
      tarEntry({ name: `state/s${i}.toml`, type: '0', data: Buffer.from(`n = ${i}\n`) }),
    );
    const file = join(await tempDir(), 'held.tar.gz');
    await writeFile(file, tarGz(entries));
    let settled = 0;
    await extractArchive({
      file,
      cwd: await tempDir(),
      onFile: () =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            settled += 1;
            resolve();
          }, 2),
        ),
    });
    expect(settled).toBe(40);
    // Held back: while one is pending, no more archive bytes reach the parser. The plain lane
    // waits for each before the next member; node-tar's lane goes on only with the entries of
    // the chunk already inside it. Either way pending callbacks do not pile up.
    const big = join(await tempDir(), 'many.tar.gz');
    await writeFile(
      big,
      tarGz(
        Array.from({ length: 300 }, (_, i) =>
          tarEntry({ name: `state/m${i}.json`, type: '0', data: Buffer.alloc(6000, 0x61 + (i % 26)) }),
        ),
      ),
    );
    for (const plainLane of [true, false]) {
      let pending = 0;
      let most = 0;
      await extractArchive(
        {
          file: big,
          cwd: await tempDir(),
          onFile: () => {
            most = Math.max(most, (pending += 1));
            return new Promise<void>((resolve) =>
              setTimeout(() => {
                pending -= 1;
                resolve();
              }, 2),
            );
          },
        },
        { plainLane },
      );
      // one 256 KiB chunk of inflated tar holds ~39 of these entries
      expect(most, plainLane ? 'plain lane' : 'node-tar').toBeLessThanOrEqual(plainLane ? 1 : 45);
    }
    const refusal = new Error('the worker is gone');
    await expect(
      extractArchive({
        file,
        cwd: await tempDir(),
        onFile: (path) => (path === 'state/s7.toml' ? Promise.reject(refusal) : undefined),
      }),
    ).rejects.toMatchObject({ message: expect.stringContaining('the worker is gone') });
  });

  it('a member held twice (tar -r appends): the last one is on disk, and both are reported in archive order', async () => {
    const first = Buffer.alloc(3 * 1024 * 1024 + 17, 0x61);
    const second = Buffer.from('version = 2\n');
    const file = join(await tempDir(), 'twice.tar.gz');
    await writeFile(
      file,
      tarGz([
        tarEntry({ name: 'state/s.toml', type: '0', data: first }),
        tarEntry({ name: 'state/s.toml', type: '0', data: second }),
      ]),
    );
    const target = await tempDir();
    const reported: string[] = [];
    await extractArchive({
      file,
      cwd: target,
      onFile: (path, f) => void reported.push(`${path} ${f.bytes} ${f.sha256}`),
    });
    expect((await readFile(join(target, 'state/s.toml'))).equals(second)).toBe(true);
    expect(reported).toEqual([
      `state/s.toml ${first.length} ${sha256Buffer(first)}`,
      `state/s.toml ${second.length} ${sha256Buffer(second)}`,
    ]);
  });

  it('reads archives made by GNU tar (the runbook) with ./ prefixes', async () => {
    const root = await copyFixture();
    const out = join(await tempDir(), 'gnu.tar.gz');
    await run('tar', ['-czf', out, './modules/zeroia/state/'], { cwd: root });
    const members = await listArchive(out);
    expect(members.map((m) => m.path)).toContain('modules/zeroia/state/zeroia_state.toml');
  });

  it('throws an integrity error on a truncated archive', async () => {
    const root = await copyFixture();
    const out = join(await tempDir(), 't.tar.gz');
    await createArchive({ cwd: root, paths: ['state/', 'config/'], file: out });
    await truncate(out, Math.floor((await stat(out)).size / 2));
    await expect(listArchive(out)).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT', exitCode: 3 });
    await expect(extractArchive({ file: out, cwd: await tempDir() })).rejects.toMatchObject({
      code: 'ARCHIVE_CORRUPT',
    });
  });

  it('refuses .., absolute paths and symlinks, writing nothing outside the target', async () => {
    const work = await tempDir();
    await mkdir(join(work, 'src', 'a'), { recursive: true });
    await writeFile(join(work, 'src', 'a', 'ok.toml'), 'ok = true\n');
    await writeFile(join(work, 'evil.toml'), 'evil = true\n');
    const { symlink } = await import('node:fs/promises');
    await symlink('/etc/passwd', join(work, 'src', 'a', 'link'));
    const out = join(work, 'hostile.tar.gz');
    await run('tar', ['-czf', out, '-C', join(work, 'src'), 'a', '../evil.toml', '-P', join(work, 'evil.toml')]);
    const target = join(work, 'target', 'inner');
    await mkdir(target, { recursive: true });
    const { extracted, refused } = await extractArchive({ file: out, cwd: target });
    expect(extracted.sort()).toEqual(['a/', 'a/ok.toml']);
    expect(refused.map((r) => r.reason).sort()).toEqual([
      'absolute path',
      'entry type SymbolicLink is not restored',
      'path escapes the target ("..")',
    ]);
    expect(await readdir(join(work, 'target'))).toEqual(['inner']);
  });

  it('never writes through a symlink planted in the target, and drops setuid bits', async () => {
    const work = await tempDir();
    await mkdir(join(work, 'src', 'a'), { recursive: true });
    await writeFile(join(work, 'src', 'a', 'ok.toml'), 'ok = true\n');
    const { chmod, symlink } = await import('node:fs/promises');
    await chmod(join(work, 'src', 'a', 'ok.toml'), 0o4755);
    const out = join(work, 'a.tar.gz');
    await run('tar', ['-czf', out, '-C', join(work, 'src'), 'a']);

    const clean = join(work, 'clean');
    await mkdir(clean);
    await extractArchive({ file: out, cwd: clean });
    expect((await stat(join(clean, 'a', 'ok.toml'))).mode & 0o7777).toBe(0o755);

    const outside = join(work, 'outside');
    await mkdir(outside);
    const trapped = join(work, 'trapped');
    await mkdir(trapped);
    await symlink(outside, join(trapped, 'a'));
    await expect(extractArchive({ file: out, cwd: trapped })).rejects.toMatchObject({
      code: 'ARCHIVE_UNSAFE',
      exitCode: 3,
    });
    expect(await readdir(outside)).toEqual([]);
  });

  it('rejects a corrupt archive only once every started write has finished', async () => {
    const root = await copyFixture();
    const out = join(await tempDir(), 'big.tar.gz');
    await createArchive({ cwd: root, paths: ['state/', 'config/', 'logs/', 'modules/'], file: out, gzipLevel: 0 });
    await truncate(out, Math.floor((await stat(out)).size * 0.7));
    const target = await tempDir();
    await expect(extractArchive({ file: out, cwd: target })).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT' });
    const before = [...(await treeContents(target)).keys()].sort();
    await new Promise((r) => setTimeout(r, 150));
    expect([...(await treeContents(target)).keys()].sort()).toEqual(before);
  });
});
