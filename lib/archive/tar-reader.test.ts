import { execFile } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { describe, expect, it } from 'vitest';
import { tempDir, treeContents } from '../testing.ts';
import { extractArchive } from './extract-archive.ts';
import { paxEntry, tarEntry, tarHeader } from './testing.ts';
import { plainHeader } from './tar-reader.ts';
import { ustarHeader } from './ustar-header.ts';

// The plain lane reads only what node-tar would read the same way, and hands the rest to
// node-tar. Proved here by difference: the same archives, valid and mangled byte by byte,
// extracted by the plain lane and by node-tar alone, give the same members, refusals, bytes
// and outcome.

const run = promisify(execFile);

/** A small seeded PRNG (mulberry32): the same cases on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Outcome {
  error: string | null;
  extracted: string[];
  refused: string[];
  files: string[];
  tree: string[];
}

async function outcome(file: string, plainLane: boolean): Promise<Outcome> {
  const cwd = await tempDir('ark-lane-');
  const files: string[] = [];
  let result: { extracted: string[]; refused: { entry: string; reason: string }[] } | null = null;
  let error: string | null = null;
  try {
    result = await extractArchive(
      { file, cwd, onFile: (path, written) => void files.push(`${path} ${written.sha256} ${written.bytes}`) },
      { plainLane },
    );
  } catch (caught) {
    error = (caught as { code?: string }).code ?? String(caught);
  }
  const tree =
    error === null
      ? [...(await treeContents(cwd))].map(([path, bytes]) => `${path} ${bytes.toString('base64')}`).sort()
      : [];
  return {
    error,
    extracted: result?.extracted ?? [],
    refused: (result?.refused ?? []).map((r) => `${r.entry}: ${r.reason}`),
    files: error === null ? files : [],
    tree,
  };
}

/** Entries of the kinds archives hold: plain files and folders, a ustar prefix, a pax header, a GNU long name, a link. */
function sampleTar(rand: () => number): Buffer {
  const parts: Buffer[] = [tarEntry({ name: 'state/', type: '5' })];
  const n = 3 + Math.floor(rand() * 5);
  for (let i = 0; i < n; i += 1) {
    const data = Buffer.from(`n = ${i}\n`.repeat(1 + Math.floor(rand() * 200)));
    const kind = rand();
    if (kind < 0.1)
      parts.push(paxEntry({ path: `state/pax-${i}.toml` }), tarEntry({ name: 'ignored', type: '0', data }));
    else if (kind < 0.15) parts.push(tarEntry({ name: `state/link-${i}`, type: '2', linkname: 'x' }));
    else if (kind < 0.2)
      parts.push(
        tarEntry({ name: '././@LongLink', type: 'L', data: Buffer.from(`state/${'long/'.repeat(25)}f${i}.toml\0`) }),
        tarEntry({ name: 'cut', type: '0', data }),
      );
    else if (kind < 0.3) {
      // A name split into ustar's prefix, as node-tar writes a path of 100 bytes or more.
      const header = new Header({
        path: `state/${'deep/'.repeat(22)}p${i}.toml`,
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: data.length,
        mtime: new Date(1_700_000_000_000),
        type: 'File',
      });
      header.encode();
      const pad = (512 - (data.length % 512)) % 512;
      parts.push(header.block!, data, Buffer.alloc(pad));
    } else parts.push(tarEntry({ name: `state/s${i}.toml`, type: '0', data }));
  }
  return Buffer.concat([...parts, Buffer.alloc(1024)]);
}

/** Bytes changed where it matters: header fields mostly, the data sometimes; zero blocks dropped or added; a cut. */
function mangle(tar: Buffer, rand: () => number): Buffer {
  let out = Buffer.from(tar);
  const headers: number[] = [];
  for (let at = 0; at + 512 <= out.length; at += 512) if (out[at + 257] === 0x75) headers.push(at);
  const edits = 1 + Math.floor(rand() * 3);
  for (let e = 0; e < edits; e += 1) {
    const what = rand();
    const at = headers[Math.floor(rand() * headers.length)] ?? 0;
    if (at + 512 > out.length) continue; // cut off by an earlier edit
    if (what < 0.55) {
      const offset = at + Math.floor(rand() * 512);
      const pick = rand();
      out[offset] =
        pick < 0.3 ? 0 : pick < 0.5 ? 0x20 : pick < 0.6 ? 0x80 : pick < 0.7 ? 0x2f : Math.floor(rand() * 256);
      if (rand() < 0.7) fixChecksum(out, at); // most mangled headers still pass their checksum
    } else if (what < 0.65) {
      const type = '0125x7\0gKLS'[Math.floor(rand() * 11)]!;
      out[at + 156] = type.charCodeAt(0);
      fixChecksum(out, at);
    } else if (what < 0.75) {
      out = Buffer.concat([out.subarray(0, at), Buffer.alloc(512), out.subarray(at)]); // a lone zero block
    } else if (what < 0.85) {
      out = out.subarray(0, Math.floor(rand() * out.length)); // cut anywhere
    } else {
      const name = `${rand() < 0.5 ? '../' : rand() < 0.5 ? '/' : './'}state/x${e}.toml`;
      out.write(name.padEnd(100, '\0'), at, 100, 'latin1');
      fixChecksum(out, at);
    }
  }
  return out;
}

function fixChecksum(tar: Buffer, at: number): void {
  if (at + 512 > tar.length) return;
  tar.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = at; i < at + 512; i += 1) sum += tar[i]!;
  tar.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 8, 'latin1');
}

describe('plainHeader', () => {
  it('reads the headers the packer and node-tar write exactly as node-tar does', () => {
    const headers: Buffer[] = [
      ustarHeader(
        'modules/zeroia/state/zeroia_state.toml',
        0o644,
        1000,
        1000,
        1234,
        new Date(1_700_000_000_000),
        'File',
      )!,
      ustarHeader('modules/zeroia/state/', 0o755, 0, 0, 0, new Date(1_700_000_000_000), 'Directory')!,
      tarHeader({ name: 'state/a.toml', type: '0', size: 7 }),
      tarHeader({ name: 'state/sub/', type: '0' }), // an old tar's folder: a file named with a "/"
    ];
    const prefixed = new Header({
      path: `state/${'deep/'.repeat(22)}p.toml`,
      mode: 0o600,
      uid: 1000,
      gid: 1000,
      size: 99,
      mtime: new Date(1_600_000_000_000),
      type: 'File',
    });
    prefixed.encode();
    headers.push(prefixed.block!);
    for (const block of headers) {
      const theirs = new Header(block);
      const ours = plainHeader(block);
      expect(ours).not.toBeNull();
      expect(ours).toEqual({
        path: theirs.path,
        type: theirs.type,
        size: theirs.size,
        mode: theirs.mode! & 0o7777,
        uid: theirs.uid,
        gid: theirs.gid,
        mtime: theirs.mtime,
      });
    }
    expect(plainHeader(Buffer.alloc(512))).toBe('null');
  });

  it('leaves to node-tar every header that is not plain', () => {
    const base = tarHeader({ name: 'state/a.toml', type: '0', size: 7 });
    const variant = (edit: (b: Buffer) => void, checksum = true) => {
      const b = Buffer.from(base);
      edit(b);
      if (checksum) fixChecksum(b, 0);
      return b;
    };
    const cases: Buffer[] = [
      tarHeader({ name: 'state/l', type: '2', linkname: '/etc/passwd' }),
      tarHeader({ name: 'state/h', type: '1', linkname: 'x' }),
      tarHeader({ name: 'PaxHeader', type: 'x', size: 30 }),
      tarHeader({ name: '././@LongLink', type: 'L', size: 30 }),
      tarHeader({ name: 'state/c', type: '3' }),
      tarHeader({ name: 'state/f', type: '6' }),
      variant((b) => (b[0] = 0x74), false), // checksum wrong
      variant((b) => (b[124] = 0x80)), // base-256 size
      variant((b) => b.write('-0000007', 124, 'latin1')), // a sign
      variant((b) => (b[5] = 0x0a)), // a control character in the name
      variant((b) => (b[60] = 0x61)), // something after the name's NUL
      variant((b) => (b[157] = 0x61)), // a link name on a file
      variant((b) => b.fill(0, 0, 100)), // no name
      variant((b) => b.fill(0x20, 100, 108)), // no mode
      variant((b) => {
        // A checksum of 8 digits, no space or NUL after: node-tar reads on into the type flag.
        b.fill(0x20, 148, 156);
        let sum = 0;
        for (const byte of b) sum += byte;
        b.write(sum.toString(8).padStart(8, '0'), 148, 8, 'latin1');
      }, false),
    ];
    cases.forEach((block, i) => expect(plainHeader(block), `case ${i}`).toBeNull());
  });
});

describe('the plain lane and node-tar alone', () => {
  it('give the same members, refusals, bytes and outcome for 300 archives, valid and mangled', async () => {
    const dir = await tempDir('ark-lanes-');
    let differentOutcomes = 0;
    const errors = new Set<string>();
    for (let seed = 1; seed <= 300; seed += 1) {
      const rand = random(seed);
      const tar = sampleTar(rand);
      const bytes = seed % 6 === 0 ? tar : mangle(tar, rand);
      const file = join(dir, `${seed}.tar.gz`);
      await writeFile(file, gzipSync(bytes));
      const plain = await outcome(file, true);
      const nodeTar = await outcome(file, false);
      expect(plain, `seed ${seed}`).toEqual(nodeTar);
      if (plain.error !== null) errors.add(plain.error);
      else if (plain.refused.length > 0) differentOutcomes += 1;
    }
    // The cases reach both outcomes: refusals and failures, not only clean archives.
    expect(differentOutcomes).toBeGreaterThan(10);
    expect([...errors]).toContain('ARCHIVE_CORRUPT');
  });

  it('read a GNU tar archive (old GNU magic, "./" names, big files streamed) the same way', async () => {
    const src = await tempDir('ark-gnu-src-');
    await mkdir(join(src, 'state', 'sub'), { recursive: true });
    await writeFile(join(src, 'state', 'a.toml'), 'a = 1\n');
    await writeFile(join(src, 'state', 'sub', 'big.bin'), Buffer.alloc(3 * 1024 * 1024 + 17, 0x5a));
    const file = join(await tempDir(), 'gnu.tar.gz');
    await run('tar', ['--format=gnu', '-czf', file, './state'], { cwd: src });
    const plain = await outcome(file, true);
    expect(plain.error).toBeNull();
    expect(plain).toEqual(await outcome(file, false));
    expect(plain.extracted).toContain('state/sub/big.bin');
  });

  it('an archive that ends without zero blocks, or holds only zero blocks, or nothing: as node-tar', async () => {
    const dir = await tempDir();
    const cases = {
      'no-end': Buffer.concat([tarEntry({ name: 'a.toml', type: '0', data: Buffer.from('a = 1\n') })]),
      'zeros-only': Buffer.alloc(1024),
      empty: Buffer.alloc(0),
    };
    for (const [name, tar] of Object.entries(cases)) {
      const file = join(dir, `${name}.tar.gz`);
      await writeFile(file, gzipSync(tar));
      const plain = await outcome(file, true);
      expect(plain, name).toEqual(await outcome(file, false));
    }
    expect((await outcome(join(dir, 'no-end.tar.gz'), true)).extracted).toEqual(['a.toml']);
    expect((await outcome(join(dir, 'zeros-only.tar.gz'), true)).error).toBe('ARCHIVE_CORRUPT');
    expect(await readdir(dir)).toHaveLength(3);
  });
});
