import { describe, expect, it } from 'vitest';
import { validateToml } from './index.ts';
import { TomlCheckPool } from './toml-check-pool.ts';

const files: [string, Buffer][] = [
  ...Array.from(
    { length: 300 },
    (_, i) => [`state/ok_${i}.toml`, Buffer.from(`[decision]\nscore = ${i}\nnote = "fine"\n`)] as [string, Buffer],
  ),
  ['state/conflict.toml', Buffer.from('a = 1\n<<<<<<< HEAD\nb = 2\n=======\nb = 3\n>>>>>>> dev\n')],
  ['state/latin1.toml', Buffer.from([0x61, 0x20, 0x3d, 0x20, 0x22, 0xe9, 0x22, 0x0a])],
  ['state/syntax.toml', Buffer.from('[unclosed\n')],
];

async function invalidOf(worker: boolean) {
  const pool = new TomlCheckPool({ worker });
  for (const [path, content] of files) {
    pool.check(path, content, 'too large');
    await pool.below(4096); // keeps at most 4 KiB waiting: must still end
  }
  pool.check('state/huge.toml', null, 'too large');
  return pool.finish();
}

describe('TomlCheckPool', () => {
  it('finds the same invalid files with the same reasons in its worker as validateToml does here', async () => {
    const expected = files.flatMap(([path, content]) => {
      const check = validateToml(content);
      return check.ok ? [] : [{ path, reason: check.reason }];
    });
    expect(expected.map((e) => e.path)).toEqual(['state/conflict.toml', 'state/latin1.toml', 'state/syntax.toml']);
    const withHuge = [...expected, { path: 'state/huge.toml', reason: 'too large' }].sort((a, b) =>
      a.path.localeCompare(b.path),
    );
    expect(await invalidOf(true)).toEqual(withHuge);
    expect(await invalidOf(false)).toEqual(withHuge);
  });

  it('checks queued batches on this thread rather than wait for the worker, with the same findings', async () => {
    const many: [string, Buffer][] = Array.from({ length: 3000 }, (_, i) => [
      `state/s_${i}.toml`,
      Buffer.from(i % 1000 === 999 ? 'broken = [\n' : `[m]\nvalue = ${i}\nsamples = [1, 2, 3]\n`),
    ]);
    const pool = new TomlCheckPool();
    for (const [path, content] of many) {
      pool.check(path, content, 'too large');
      await pool.below(8 * 1024);
    }
    const invalid = await pool.finish();
    expect(invalid.map((i) => i.path)).toEqual(['state/s_1999.toml', 'state/s_2999.toml', 'state/s_999.toml']);
    const here = validateToml(many[1999]![1]);
    expect(invalid[0]).toEqual({ path: 'state/s_1999.toml', reason: here.ok ? 'parses' : here.reason });
    expect(pool.sharedHere).toBeGreaterThan(0);
    expect(pool.sharedHere).toBeLessThanOrEqual(many.length);
  });
});
