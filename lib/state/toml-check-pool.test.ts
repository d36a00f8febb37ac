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
});
