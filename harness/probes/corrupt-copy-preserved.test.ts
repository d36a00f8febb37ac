import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withHeartbeat } from '../arkalia/index.ts';
import { probeSchema, runProbe } from './index.ts';
import { probeContext } from './testing.ts';
import type { InjectedFault } from '../faults/index.ts';
import { takeTreeSnapshot, type TreeSnapshot } from './tree-snapshot.ts';

const STATE = 'modules/zeroia/state/zeroia_state.toml';
const DAMAGED = Buffer.from('<<<<<<< HEAD\nlast_decision = "hold"\n=======\n');
const probe = probeSchema.parse({ probe: 'corrupt-copy-preserved', module: 'zeroia' });
const beat = (sequence: number) => ({ service: 'zeroia', sequence, writtenAt: `2026-12-01T00:00:0${sequence}Z` });

async function drill() {
  const faults: InjectedFault[] = [];
  const snapshots: { recovery?: TreeSnapshot } = {};
  const ctx = { ...(await probeContext()), faults, snapshots };
  const copy = join(ctx.backupDir, 'preserved', 'zeroia_state_20261201_000000');
  await mkdir(copy, { recursive: true });
  const snapshotNow = async () => {
    snapshots.recovery = await takeTreeSnapshot({ root: ctx.root, backup: ctx.backupDir, work: ctx.work });
  };
  const damage = () =>
    faults.push({ kind: 'corrupt-toml', description: 'd', path: STATE, damaged: DAMAGED, revert: async () => {} });
  return { ctx, copy, snapshotNow, damage };
}

describe('corrupt-copy-preserved probe', () => {
  it('passes when the copy holds the damaged bytes that were there when the recovery began', async () => {
    const { ctx, copy, snapshotNow, damage } = await drill();
    await writeFile(join(ctx.root, STATE), DAMAGED);
    damage();
    await snapshotNow();
    // the restore moves the whole folder aside: everything it held
    await cp(join(ctx.root, 'modules/zeroia/state'), copy, { recursive: true });
    const result = await runProbe(probe, ctx);
    expect(result).toMatchObject({ ok: true, detail: expect.stringMatching(/damaged bytes included/) });
  });

  it('fails when the damaged bytes, or any file the folder held, are not in the copy', async () => {
    const { ctx, copy, snapshotNow, damage } = await drill();
    await writeFile(join(ctx.root, STATE), DAMAGED);
    damage();
    await snapshotNow();
    await writeFile(join(copy, 'zeroia_state.toml'), 'last_decision = "monitor"\n'); // the good state, not the damage
    // the restore replaced the decision log too, and lost the old one
    await writeFile(join(ctx.root, 'modules/zeroia/state/zeroia_decision_log.toml'), 'restored = true\n');
    const result = await runProbe(probe, ctx);
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(/zeroia_state\.toml: its damaged bytes are not kept byte for byte/);
    expect(result.detail).toMatch(/zeroia_decision_log\.toml: replaced, and not in the copy/);
    expect(result.detail).not.toMatch(/zeroia_state_backup/); // left alone by the restore: still in place
  });

  it('a writer that overwrote the damage before the recovery: the copy holds what was there, heartbeat aside, and says the damage was gone', async () => {
    const { ctx, copy, snapshotNow, damage } = await drill();
    damage();
    await writeFile(join(ctx.root, STATE), withHeartbeat('last_decision = "init"\n', beat(1)));
    await snapshotNow();
    await cp(join(ctx.root, 'modules/zeroia/state'), copy, { recursive: true });
    // it cycled once more before the restore stopped it: only its heartbeat moved
    await writeFile(join(copy, 'zeroia_state.toml'), withHeartbeat('last_decision = "init"\n', beat(2)));
    const result = await runProbe(probe, ctx);
    expect(result).toMatchObject({
      ok: true,
      detail: expect.stringMatching(/damage to .*zeroia_state\.toml was gone before the recovery began/),
    });
  });

  it('fails with no preserved copy at all (a recovery that changed nothing)', async () => {
    const { ctx } = await drill();
    await rm(join(ctx.backupDir, 'preserved'), { recursive: true });
    expect(await runProbe(probe, ctx)).toMatchObject({ ok: false, detail: expect.stringMatching(/nothing under/) });
  });
});
