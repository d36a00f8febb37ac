import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateToml } from '../../lib/state/index.ts';
import { injectFault, parseHunks, replayConflict } from './index.ts';
import { faultContext } from './testing.ts';
import { SAMPLE_ROOT } from '../../sample/index.ts';

const fixture = (path: string) => readFile(join(SAMPLE_ROOT, path), 'utf8');

describe('git-conflict fault (the real-world merge damage, as the sample root keeps it)', () => {
  it('reads the hunks Arkalia really shipped', async () => {
    const reflexia = parseHunks(await fixture('state/reflexia_state.toml'));
    expect(reflexia.map((h) => [h.table, h.ours.length, h.theirs.length, h.open, h.close])).toEqual([
      [null, 1, 1, '<<<<<<< HEAD', '>>>>>>> dev-migration'],
      ['decision_metrics', 2, 2, '<<<<<<< HEAD', '>>>>>>> dev-migration'],
    ]);
    expect(parseHunks(await fixture('state/global_context.toml'))).toHaveLength(1);
  });

  it("replays the same shape on a valid file: same tables, same markers, the other branch's values", async () => {
    const source = await fixture('state/reflexia_state.toml');
    const target = await fixture('modules/zeroia/state/zeroia_state.toml');
    const damaged = replayConflict(source, target);
    expect(validateToml(Buffer.from(damaged)).ok).toBe(false);
    expect(parseHunks(damaged).map((h) => [h.table, h.ours.length])).toEqual([
      [null, 1],
      ['decision', 2],
    ]);
    expect(damaged).toContain(
      '<<<<<<< HEAD\ntimestamp = "2026-10-02 06:13:57"\n=======\ntimestamp = "2026-10-01T03:02:55.906719"\n>>>>>>> dev-migration\n',
    );
    expect(damaged).toContain(
      'last_decision = "monitor"\nconfidence_score = 0.82\n=======\nlast_decision = 0.8267514902213357\nconfidence_score = 0.9408831160275942\n',
    );
    // Without the hunks, the HEAD side is the original file, byte for byte.
    const ours = damaged.replace(/^=======\n[\s\S]*?^>>>>>>> dev-migration\n/gm, '').replace(/^<<<<<<< HEAD\n/gm, '');
    expect(ours).toBe(target);
  });

  it("global_context's single hunk lands on its valid twin in global_state/", async () => {
    const twin = await fixture('global_state/global_context.toml');
    const damaged = replayConflict(await fixture('state/global_context.toml'), twin);
    expect(damaged).toContain(
      '<<<<<<< HEAD\nlast_sync = "2026-10-02T06:14:08.402117"\n=======\nlast_sync = "2026-10-01T03:02:55.906731"\n>>>>>>> dev-migration\n',
    );
    expect(validateToml(Buffer.from(damaged)).ok).toBe(false);
    // A file with no key line at all is wrapped whole.
    expect(
      replayConflict(await fixture('state/global_context.toml'), '# empty\n').startsWith(
        '<<<<<<< HEAD\n# empty\n=======\n',
      ),
    ).toBe(true);
  });

  it('injects on a temp copy and reverts, unless a recovery rewrote the file', async () => {
    const ctx = await faultContext();
    const path = join(ctx.root, 'modules/zeroia/state/zeroia_state.toml');
    const original = await readFile(path);
    const fault = await injectFault(
      { kind: 'git-conflict', path: 'modules/zeroia/state/zeroia_state.toml', like: 'state/reflexia_state.toml' },
      ctx,
    );
    expect((await readFile(path)).equals(fault.damaged!)).toBe(true);
    await fault.revert();
    await fault.revert();
    expect((await readFile(path)).equals(original)).toBe(true);

    const again = await injectFault(
      { kind: 'git-conflict', path: 'modules/zeroia/state/zeroia_state.toml', like: 'state/global_context.toml' },
      ctx,
    );
    await writeFile(path, 'restored = true\n');
    await again.revert();
    expect(await readFile(path, 'utf8')).toBe('restored = true\n');
  });
});
