import { Header, type HeaderData } from 'tar';
import { describe, expect, it } from 'vitest';
import { ustarHeader } from './ustar-header.ts';

// The packer's fast header must be the very block node-tar encodes (GNU tar reads node-tar's),
// and must decline whatever ustar cannot hold plainly, so that node-tar (with a pax header)
// takes it.

function nodeTar(data: HeaderData): Buffer {
  const block = Buffer.alloc(512);
  new Header(data).encode(block);
  return block;
}

/** A small seeded generator: the same cases every run. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('ustarHeader', () => {
  it('writes the block node-tar writes for files and folders with plain names, sizes and times', () => {
    const next = random(7);
    const chars = 'abcdefghijklmnopqrstuvwxyz_-.0123456789/';
    for (let i = 0; i < 2000; i += 1) {
      const length = 1 + Math.floor(next() * 99);
      let path = '';
      for (let c = 0; c < length; c += 1) path += chars[Math.floor(next() * chars.length)];
      const type = next() < 0.2 ? 'Directory' : 'File';
      const data = {
        path,
        mode: Math.floor(next() * 0o7777),
        uid: Math.floor(next() * 70_000),
        gid: Math.floor(next() * 70_000),
        size: type === 'Directory' ? 0 : Math.floor(next() * 2 ** (next() * 33)),
        mtime: new Date(Math.floor(next() * 2 ** 33)),
        type,
      } as const;
      const fast = ustarHeader(data.path, data.mode, data.uid, data.gid, data.size, data.mtime, data.type);
      expect(fast, JSON.stringify(data)).not.toBeNull();
      expect(fast?.equals(nodeTar(data)), JSON.stringify(data)).toBe(true);
    }
  });

  it('writes the edges node-tar still writes plainly: 99-byte names, the largest octal size and ids', () => {
    const cases = [
      { path: 'x'.repeat(99), size: 0, uid: 0, gid: 0 },
      { path: 'a', size: 0o77777777777, uid: 0o7777777, gid: 0o7777777 },
      { path: 'state/zeroia_state.toml', size: 1, uid: 1000, gid: 1000 },
    ];
    for (const c of cases) {
      const data = { ...c, mode: 0o644, mtime: new Date(1_700_000_000_999), type: 'File' as const };
      expect(ustarHeader(c.path, 0o644, c.uid, c.gid, c.size, data.mtime, 'File')?.equals(nodeTar(data))).toBe(true);
    }
  });

  it('declines what needs a pax header or a prefix: long or non-ASCII names, huge sizes, ids or times', () => {
    const t = new Date(1_700_000_000_000);
    expect(ustarHeader('x'.repeat(100), 0o644, 0, 0, 1, t, 'File')).toBeNull();
    expect(ustarHeader('état.toml', 0o644, 0, 0, 1, t, 'File')).toBeNull();
    expect(ustarHeader('a', 0o644, 0, 0, 0o77777777777 + 1, t, 'File')).toBeNull();
    expect(ustarHeader('a', 0o644, 0o7777777 + 1, 0, 1, t, 'File')).toBeNull();
    expect(ustarHeader('a', 0o644, 0, 0o7777777 + 1, 1, t, 'File')).toBeNull();
    expect(ustarHeader('a', 0o644, 0, 0, 1, new Date(-1000), 'File')).toBeNull();
    expect(ustarHeader('a', 0o644, 0, 0, 1, new Date(0o77777777777 * 1000 + 1000), 'File')).toBeNull();
  });
});
