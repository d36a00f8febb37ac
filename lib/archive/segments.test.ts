import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstatSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { SegmentIndex } from '../checksum/index.ts';
import { fileTexts, tempDir } from '../testing.ts';
import { createArchive, measurePlan } from './index.ts';
import {
  crc32Combine,
  indexMatches,
  MAX_BYTES,
  TARGET_BYTES,
  planSegments,
  sameAsPlanned,
  type PlannedMember,
} from './segments.ts';

// Runs (segments.ts): cuts that fall in the same places whatever changed elsewhere, runs copied
// from the previous archive only when their members did not change, and an archive written
// from copied and new runs that is one standard gzip member holding exactly the tree.

const run = promisify(execFile);
const MiB = 1024 * 1024;

function member(name: string, size = 3000, stamp = 1): PlannedMember {
  return {
    name,
    kind: 'file',
    size,
    rest: `33188\0${size}\0${stamp}000000000\0${stamp}000000000\0${name.length}\x000:0\0`,
  };
}

/** 4,000 members of ~3 KB in 8 folders, named as Arkalia's module states are. */
function members(): PlannedMember[] {
  const out: PlannedMember[] = [];
  for (let d = 0; d < 8; d += 1)
    for (let i = 0; i < 500; i += 1) out.push(member(`modules/m${d}/state/m${d}_${String(i).padStart(5, '0')}.toml`));
  return out;
}

/** A tree of `files` state files of 2-11 KB, and the archive of it written in runs. */
async function stateTree(files = 700): Promise<string> {
  const root = await tempDir('ark-seg-');
  for (let d = 0; d < 4; d += 1) {
    await mkdir(join(root, 'state', `m${d}`), { recursive: true });
    for (let i = 0; i < files / 4; i += 1)
      await writeFile(
        join(root, 'state', `m${d}`, `s${i}.toml`),
        `n = ${i}\nv = "${'x'.repeat(2000 + ((i * 37) % 9000))}"\n`,
      );
  }
  return root;
}

async function archiveInRuns(root: string, file: string, previous: { index: SegmentIndex; file: string } | null) {
  const size = await measurePlan(root, ['state']);
  const plan = planSegments(size.members, previous?.index ?? null, 6);
  const result = await createArchive({
    cwd: root,
    paths: ['state'],
    file,
    live: {},
    segments: { plan, previous: previous?.file ?? null },
  });
  return { plan, result };
}

async function trailerOf(file: string): Promise<[number, number, number]> {
  const bytes = await readFile(file);
  return [bytes.length, bytes.readUInt32LE(bytes.length - 8), bytes.readUInt32LE(bytes.length - 4)];
}

const tarSha = async (file: string) => (await run('sh', ['-c', `gzip -dc '${file}' | sha256sum`])).stdout.split(' ')[0];

describe('crc32Combine', () => {
  it('gives the CRC-32 of A then B from the CRCs of A and B and the length of B', () => {
    for (const [a, b] of [
      [0, 0],
      [0, 5],
      [5, 0],
      [1, 1],
      [1000, 3],
      [17, 65_537],
      [MiB, MiB + 13],
    ] as const) {
      const A = randomBytes(a);
      const B = randomBytes(b);
      expect(crc32Combine(crc32(A), crc32(B), b)).toBe(crc32(Buffer.concat([A, B])));
    }
  });

  it('chains: the CRC of many pieces combined one after another is the CRC of the whole', () => {
    const pieces = Array.from({ length: 20 }, (_, i) => randomBytes(1 + i * 977));
    let crc = 0;
    for (const piece of pieces) crc = crc32Combine(crc, crc32(piece), piece.length);
    expect(crc).toBe(crc32(Buffer.concat(pieces)));
  });

  it('handles lengths past 4 GiB: combining is associative there too (a length taken mod 2^32 would break it)', () => {
    // crc of 2^k zero bytes, by doubling: crc(Z ++ Z) = combine(crc(Z), crc(Z), |Z|).
    let zeros = crc32(Buffer.alloc(1));
    for (let n = 1; n < 2 ** 32; n *= 2) zeros = crc32Combine(zeros, zeros, n);
    const a = crc32(Buffer.from('head'));
    const b = crc32(Buffer.from('tail!!!'));
    const left = crc32Combine(crc32Combine(a, zeros, 2 ** 32), b, 7); // (A ++ Z) ++ B
    const right = crc32Combine(a, crc32Combine(zeros, b, 7), 2 ** 32 + 7); // A ++ (Z ++ B)
    expect(left).toBe(right);
    expect(crc32Combine(a, zeros, 2 ** 32)).not.toBe(crc32Combine(a, zeros, 0));
  });
});

describe('planSegments', () => {
  it('cuts runs of about 1 MiB on average, none over 8 MiB plus one member, every member once and in order', () => {
    const runs = planSegments(members(), null, 6);
    const bytes = runs.map((r) => r.members.reduce((sum, m) => sum + 512 + Math.ceil(m.size / 512) * 512, 0));
    const mean = bytes.reduce((a, b) => a + b, 0) / bytes.length;
    expect(mean).toBeGreaterThan(TARGET_BYTES / 3);
    expect(mean).toBeLessThan(TARGET_BYTES * 3);
    for (const b of bytes) expect(b).toBeLessThanOrEqual(MAX_BYTES + 4096);
    expect(runs.flatMap((r) => r.members)).toEqual(members());
    expect(runs.every((r) => r.reuse === null)).toBe(true);
  });

  it('starts a run at every member of 1 MiB or more (a model blob is a run of its own)', () => {
    const list = [member('m/a', 5000), member('m/big1', 2 * MiB), member('m/b', 10), member('m/big2', MiB)];
    const runs = planSegments(list, null, 6);
    expect(runs.map((r) => r.members[0]!.name)).toEqual(expect.arrayContaining(['m/big1', 'm/big2']));
  });

  it('after one member changed, every other run is matched to the previous archive, whatever its place', () => {
    const before = planSegments(members(), null, 6);
    const index = indexOf(before);
    const changed = members();
    changed[1234] = member(changed[1234]!.name, 3000, 2); // a new mtime
    const after = planSegments(changed, index, 6);
    expect(after.filter((r) => r.reuse === null)).toHaveLength(1);
    expect(after.find((r) => r.reuse === null)!.members.map((m) => m.name)).toContain(changed[1234]!.name);
  });

  it('resyncs after members are added or removed: the cuts fall on the same names again', () => {
    const before = planSegments(members(), null, 6);
    const index = indexOf(before);
    const grown = members();
    grown.splice(700, 0, ...Array.from({ length: 40 }, (_, i) => member(`modules/m1/state/new_${i}.toml`, 9000)));
    grown.splice(3000, 25);
    const after = planSegments(grown, index, 6);
    // Only the runs holding the insertion and the removal (each may split or join one run) are new.
    const rewritten = after.filter((r) => r.reuse === null).length;
    expect(rewritten).toBeGreaterThanOrEqual(2);
    expect(rewritten).toBeLessThanOrEqual(4);
    const added = new Set(grown.filter((m) => m.name.includes('new_')).map((m) => m.name));
    for (const r of after.filter((r) => r.reuse === null))
      expect(r.members.some((m) => added.has(m.name)) || r.members.some((m) => m.name.startsWith('modules/m5/'))).toBe(
        true,
      );
  });

  it('never matches a run of another gzip level (its bytes would decompress the same, but the level is part of the archive)', () => {
    const index = indexOf(planSegments(members(), null, 6));
    expect(planSegments(members(), index, 6).every((r) => r.reuse !== null)).toBe(true);
    expect(planSegments(members(), index, 9).every((r) => r.reuse === null)).toBe(true);
  });
});

/** An index as if the plan had been written (offsets made up, back to back). */
function indexOf(runs: ReturnType<typeof planSegments>): SegmentIndex {
  let at = 10;
  return {
    level: 6,
    runs: runs.map((r) => {
      const record = {
        digest: r.digest,
        members: r.members.length,
        tar_bytes: 1,
        gz_offset: at,
        gz_bytes: 1,
        crc32: 0,
      };
      at += 1;
      return record;
    }),
  };
}

describe('sameAsPlanned', () => {
  it('is true for the file the walk saw, false once its mtime, size or mode moved', async () => {
    const root = await tempDir('ark-seg-');
    await mkdir(join(root, 'state'));
    const path = join(root, 'state', 'a.toml');
    await writeFile(path, 'a = 1\n');
    const [, planned] = (await measurePlan(root, ['state'])).members;
    expect(planned!.name).toBe('state/a.toml');
    expect(sameAsPlanned(planned!, lstatSync(path))).toBe(true);
    await writeFile(path, 'a = 22\n');
    expect(sameAsPlanned(planned!, lstatSync(path))).toBe(false);
    const info = lstatSync(path);
    const again = (await measurePlan(root, ['state'])).members[1]!;
    expect(sameAsPlanned(again, { ...info, mode: info.mode ^ 0o020 })).toBe(false);
  });
});

describe('an archive written in runs', () => {
  it('copies the unchanged runs of the previous archive: one gzip member, byte for byte the tar a fresh archive holds', async () => {
    const root = await stateTree();
    const out = await tempDir('ark-seg-out-');
    const first = await archiveInRuns(root, join(out, 'a.tar.gz'), null);
    expect(first.result.segments!.runs.length).toBe(first.plan.length + 1); // and the end of the archive
    expect(indexMatches(first.result.segments!, ...(await trailerOf(join(out, 'a.tar.gz'))))).toBe(true);

    await writeFile(join(root, 'state', 'm2', 's100.toml'), 'changed = true\n');
    const second = await archiveInRuns(root, join(out, 'b.tar.gz'), {
      index: first.result.segments!,
      file: join(out, 'a.tar.gz'),
    });
    expect(second.result.copied!.runs).toBe(first.plan.length - 1);
    expect(second.result.members).toBe(first.result.members);
    expect(indexMatches(second.result.segments!, ...(await trailerOf(join(out, 'b.tar.gz'))))).toBe(true);
    await run('gzip', ['-t', join(out, 'b.tar.gz')]);
    const fresh = await archiveInRuns(root, join(out, 'c.tar.gz'), null);
    expect(await tarSha(join(out, 'b.tar.gz'))).toBe(await tarSha(join(out, 'c.tar.gz')));
    expect(second.result.tarBytes).toBe(fresh.result.tarBytes);
    const into = await tempDir('ark-seg-x-');
    await run('tar', ['-xzf', join(out, 'b.tar.gz'), '-C', into]);
    expect(await fileTexts(join(into, 'state'))).toEqual(await fileTexts(join(root, 'state')));

    // A run copied once is copied again from the archive it went into (its new offsets).
    await writeFile(join(root, 'state', 'm0', 's3.toml'), 'changed = 2\n');
    await archiveInRuns(root, join(out, 'd.tar.gz'), { index: second.result.segments!, file: join(out, 'b.tar.gz') });
    await archiveInRuns(root, join(out, 'e.tar.gz'), null);
    expect(await tarSha(join(out, 'd.tar.gz'))).toBe(await tarSha(join(out, 'e.tar.gz')));
  });

  it('marks a run whose member changed between the walk and the read as not reusable, and archives what it read', async () => {
    const root = await stateTree(400);
    const out = await tempDir('ark-seg-out-');
    const size = await measurePlan(root, ['state']);
    await writeFile(join(root, 'state', 'm1', 's7.toml'), 'late = true\n'); // after the walk
    const result = await createArchive({
      cwd: root,
      paths: ['state'],
      file: join(out, 'a.tar.gz'),
      live: {},
      segments: { plan: planSegments(size.members, null, 6), previous: null },
    });
    expect(result.segments!.runs.filter((r) => r.digest === '')).toHaveLength(2); // that run, and the end
    const into = await tempDir('ark-seg-x-');
    await run('tar', ['-xzf', join(out, 'a.tar.gz'), '-C', into]);
    expect(await readFile(join(into, 'state', 'm1', 's7.toml'), 'utf8')).toBe('late = true\n');
  });

  it('packs a link as a link and a member gone since the walk not at all, as the walk-as-you-go packer does', async () => {
    const root = await stateTree(40);
    await symlink('s1.toml', join(root, 'state', 'm0', 'link.toml'));
    const out = await tempDir('ark-seg-out-');
    const size = await measurePlan(root, ['state']);
    await rm(join(root, 'state', 'm3', 's2.toml'));
    await createArchive({
      cwd: root,
      paths: ['state'],
      file: join(out, 'a.tar.gz'),
      live: {},
      segments: { plan: planSegments(size.members, null, 6), previous: null },
    });
    await createArchive({ cwd: root, paths: ['state'], file: join(out, 'b.tar.gz'), live: {} });
    expect(await tarSha(join(out, 'a.tar.gz'))).toBe(await tarSha(join(out, 'b.tar.gz')));
    const { stdout } = await run('tar', ['-tvzf', join(out, 'a.tar.gz')]);
    expect(stdout).toMatch(/state\/m0\/link\.toml -> s1\.toml/);
    expect(stdout).not.toContain('m3/s2.toml');
  });

  it('fails, naming the previous archive, when a run to copy is not there any more (it shrank)', async () => {
    const root = await stateTree(700);
    const out = await tempDir('ark-seg-out-');
    const first = await archiveInRuns(root, join(out, 'a.tar.gz'), null);
    await writeFile(join(root, 'state', 'm0', 's0.toml'), 'changed = true\n');
    await truncate(join(out, 'a.tar.gz'), 1000);
    await expect(
      archiveInRuns(root, join(out, 'b.tar.gz'), { index: first.result.segments!, file: join(out, 'a.tar.gz') }),
    ).rejects.toThrow(/previous archive ended at \d+ bytes, inside a run being copied/);
  });

  it('is refused with zstd or another packer (their bytes cannot be cut into runs)', async () => {
    const root = await stateTree(8);
    const out = await tempDir('ark-seg-out-');
    const size = await measurePlan(root, ['state']);
    const segments = { plan: planSegments(size.members, null, 6), previous: null };
    await expect(
      createArchive({ cwd: root, paths: ['state'], file: join(out, 'a.tar.zst'), compression: 'zstd', segments }),
    ).rejects.toThrow(/only with gzip and the built-in packer/);
    await expect(
      createArchive({ cwd: root, paths: ['state'], file: join(out, 'a.tar.gz'), tar: 'node', segments }),
    ).rejects.toThrow(/only with gzip and the built-in packer/);
  });
});

describe('indexMatches', () => {
  it('is false for an index that does not describe the file: a moved offset, a wrong CRC, another size', async () => {
    const root = await stateTree(700);
    const out = await tempDir('ark-seg-out-');
    const { result } = await archiveInRuns(root, join(out, 'a.tar.gz'), null);
    const [size, crc, isize] = await trailerOf(join(out, 'a.tar.gz'));
    const index = result.segments!;
    expect(indexMatches(index, size, crc, isize)).toBe(true);
    const edit = (i: number, change: Partial<SegmentIndex['runs'][number]>): SegmentIndex => ({
      ...index,
      runs: index.runs.map((r, j) => (j === i ? { ...r, ...change } : r)),
    });
    expect(indexMatches(edit(1, { gz_offset: index.runs[1]!.gz_offset + 1 }), size, crc, isize)).toBe(false);
    expect(indexMatches(edit(0, { crc32: (index.runs[0]!.crc32 ^ 1) >>> 0 }), size, crc, isize)).toBe(false);
    expect(indexMatches(edit(0, { tar_bytes: index.runs[0]!.tar_bytes + 512 }), size, crc, isize)).toBe(false);
    expect(indexMatches(index, size + 1, crc, isize)).toBe(false);
  });
});
