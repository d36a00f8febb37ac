import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileTexts, tempDir } from '../testing.ts';
import { ExtractBudget } from './extract-limits.ts';
import { createArchive, extractArchive, measurePlan } from './index.ts';
import { comparePaths, inPathOrder, memberName, runsHolding } from './read-runs.ts';
import { planSegments, type SegmentIndex } from './segments.ts';
import { tarEntry } from './testing.ts';

// Reading only the runs that hold a folder: the same files as reading the whole archive,
// fewer runs inflated, and the whole archive read whenever the index cannot be relied on.

const MODULES = ['m1', 'm1-old', 'm1.bak', 'm2', 'm3'];

/** Modules of ~1.4 MiB of state each (names that sort differently with and without "/" first), archived in runs. */
async function archived(): Promise<{ root: string; file: string; index: SegmentIndex }> {
  const root = await tempDir('ark-runs-');
  for (const m of MODULES) {
    await mkdir(join(root, 'modules', m, 'state'), { recursive: true });
    for (let i = 0; i < 220; i += 1)
      await writeFile(
        join(root, 'modules', m, 'state', `${m}_${String(i).padStart(4, '0')}.toml`),
        `n = ${i}\nv = "${m}${'x'.repeat(3000 + ((i * 53) % 5000))}"\n`,
      );
  }
  const plan = await measurePlan(root, ['modules']);
  const file = join(await tempDir('ark-runs-'), 'states.tar.gz');
  const result = await createArchive({
    cwd: root,
    paths: ['modules'],
    file,
    live: {},
    segments: { plan: planSegments(plan.members, null, 6), previous: null },
  });
  return { root, file, index: result.segments! };
}

/** Extract what `select` picks, from `runs` or from the whole archive. */
async function extracted(file: string, folder: string, runs?: Awaited<ReturnType<typeof runsHolding>>) {
  const cwd = await tempDir('ark-runs-out-');
  await extractArchive({
    file,
    cwd,
    select: (path) => path.startsWith(folder),
    ...(runs ? { runs } : {}),
  });
  return fileTexts(cwd);
}

describe('the packer’s order', () => {
  it('is a depth-first walk with sorted folders: "/" before any other character', () => {
    const walk = [
      'modules',
      'modules/m1',
      'modules/m1/state',
      'modules/m1/state/a',
      'modules/m1-old',
      'modules/m1.bak',
    ];
    expect(inPathOrder(walk)).toBe(true);
    expect([...walk].reverse().sort(comparePaths)).toEqual(walk);
    expect(inPathOrder(['modules/m1-old', 'modules/m1/state'])).toBe(false); // plain string order
    expect(inPathOrder(['a', 'a'])).toBe(false);
  });
});

describe('memberName', () => {
  it('reads a ustar name (with its prefix), a pax path and a GNU long name; anything else is null', () => {
    const file = (name: string) => tarEntry({ name, type: '0', data: Buffer.from('x') });
    expect(memberName(file('modules/m1/state/a.toml'))).toBe('modules/m1/state/a.toml');
    expect(memberName(tarEntry({ name: './modules/m1/', type: '5', data: Buffer.alloc(0) }))).toBe('modules/m1');
    const long = `modules/${'l'.repeat(150)}/state/a.toml`;
    const pax = `path=${long}\n`;
    const record = `${pax.length + String(pax.length + 3).length + 1} ${pax}`;
    expect(
      memberName(Buffer.concat([tarEntry({ name: 'PaxHeader', type: 'x', data: Buffer.from(record) }), file('short')])),
    ).toBe(long);
    expect(
      memberName(
        Buffer.concat([tarEntry({ name: '././@LongLink', type: 'L', data: Buffer.from(`${long}\0`) }), file('short')]),
      ),
    ).toBe(long);
    const broken = file('modules/m1/state/a.toml');
    broken[3] ^= 1; // the header checksum no longer matches
    expect(memberName(broken)).toBeNull();
    expect(memberName(Buffer.alloc(512))).toBeNull(); // zeros: the end of an archive
    expect(memberName(file('modules/m1/state/a.toml').subarray(0, 300))).toBeUndefined(); // more is needed
  });
});

describe('runsHolding', () => {
  it('picks only the runs that hold a folder, and they give exactly the files the whole archive gives', async () => {
    const { root, file, index } = await archived();
    expect(index.sorted).toBe(true);
    const members = index.runs.filter((r) => r.members > 0).length;
    expect(members).toBeGreaterThanOrEqual(5);
    for (const m of MODULES) {
      const folder = `modules/${m}/state/`;
      const runs = await runsHolding(file, index, [folder]);
      expect(runs, folder).not.toBeNull();
      expect(runs!.length).toBeLessThan(members);
      const fromRuns = await extracted(file, folder, runs);
      expect(Object.keys(fromRuns)).toHaveLength(220);
      expect(fromRuns).toEqual(await extracted(file, folder));
      expect(fromRuns[`${folder}${m}_0007.toml`]).toBe(await readFile(join(root, folder, `${m}_0007.toml`), 'utf8'));
    }
    // Several folders at once; a folder the archive does not hold gives nothing to read.
    const both = await runsHolding(file, index, ['modules/m1/state/', 'modules/m3/state/']);
    expect(both!.length).toBeLessThan(members);
    expect(await runsHolding(file, index, ['zzz/'])).toHaveLength(1); // the last run: it may end with zzz/
    expect(await runsHolding(file, index, ['aaa/'])).toEqual([]);
  });

  it('says "read it all" (null) when the index cannot be relied on', async () => {
    const { file, index } = await archived();
    const folder = ['modules/m2/state/'];
    expect(await runsHolding(file, { ...index, sorted: false }, folder)).toBeNull();
    const { sorted: _, ...unsorted } = index;
    expect(await runsHolding(file, unsorted, folder)).toBeNull(); // written before the order was recorded
    const shifted = index.runs.map((r, i) => (i === 1 ? { ...r, gz_offset: r.gz_offset + 1 } : r));
    expect(await runsHolding(file, { ...index, runs: shifted }, folder)).toBeNull();
    const crc = index.runs.map((r, i) => (i === 2 ? { ...r, crc32: (r.crc32 + 1) >>> 0 } : r));
    expect(await runsHolding(file, { ...index, runs: crc }, folder)).toBeNull();
    expect(await runsHolding(file, index, ['modules/m2/state/*.toml'])).toBeNull(); // not a folder
    expect(await runsHolding(file, index, ['modules/*/state/'])).toBeNull(); // a pattern
  });

  it('a run whose bytes do not match the index fails the extraction as corrupt', async () => {
    const { file, index } = await archived();
    const runs = (await runsHolding(file, index, ['modules/m2/state/']))!;
    const bytes = await readFile(file);
    bytes[runs[0]!.gz_offset + 200] ^= 0xff;
    await writeFile(file, bytes);
    await expect(
      extractArchive({ file, cwd: await tempDir(), runs, budget: new ExtractBudget() }),
    ).rejects.toMatchObject({
      // Found by the inflate, the tar parser or the run's CRC-32, whichever comes first.
      code: 'ARCHIVE_CORRUPT',
      message: expect.stringContaining('cannot be read as a gzip tarball'),
    });
    // A run that inflates cleanly to other bytes (the index's CRC-32 of another run) is caught by that check.
    const { index: fresh, file: other } = await archived();
    const chosen = (await runsHolding(other, fresh, ['modules/m2/state/']))!;
    const wrong = chosen.map((r, i) => (i === 0 ? { ...r, crc32: (r.crc32 ^ 1) >>> 0 } : r));
    await expect(extractArchive({ file: other, cwd: await tempDir(), runs: wrong })).rejects.toMatchObject({
      code: 'ARCHIVE_CORRUPT',
      message: expect.stringContaining('does not match the index of runs'),
    });
  });
});
