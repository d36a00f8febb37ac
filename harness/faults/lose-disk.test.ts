import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { treeContents } from '../../lib/testing.ts';
import { injectFault } from './index.ts';
import { faultContext, wholeTree } from './testing.ts';

describe('lose-disk fault', () => {
  it('empties the root and the backup folder, keeps the workspace (offsite), and revert brings everything back', async () => {
    const ctx = await faultContext();
    await mkdir(join(ctx.backupDir, 'daily', 'arkalia_20260101'), { recursive: true });
    await writeFile(join(ctx.backupDir, 'daily', 'arkalia_20260101', 'checksums_20260101.sha256'), 'x\n');
    await writeFile(join(ctx.work, 'offsite', 'SHA256SUMS'), 'offsite\n');
    const before = await wholeTree(ctx);
    const fault = await injectFault({ kind: 'lose-disk', new_host: false }, ctx);
    expect(await readdir(ctx.root)).toEqual([]);
    expect(await readdir(ctx.backupDir)).toEqual([]);
    expect([...(await treeContents(join(ctx.work, 'offsite'))).keys()]).toEqual(['SHA256SUMS']);
    await fault.revert();
    await fault.revert();
    expect(await wholeTree(ctx)).toEqual(before);
  });

  it('leaves what a recovery rebuilt in place, and restores only the rest', async () => {
    const ctx = await faultContext();
    const fault = await injectFault({ kind: 'lose-disk', new_host: false }, ctx);
    await mkdir(join(ctx.root, 'modules', 'zeroia', 'state'), { recursive: true });
    await writeFile(join(ctx.root, 'modules', 'zeroia', 'state', 'zeroia_state.toml'), 'restored = true\n');
    await fault.revert();
    const after = await treeContents(ctx.root);
    expect(after.get('modules/zeroia/state/zeroia_state.toml')?.toString()).toBe('restored = true\n');
    expect(after.has('version.toml')).toBe(true);
    expect(after.has('modules/zeroia/state/zeroia_decision_log.toml')).toBe(true); // merged into the rebuilt folder
    expect(after.has('modules/cognitive_reactor/state/cognitive_state.json')).toBe(true);
  });
});
