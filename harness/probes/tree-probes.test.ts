import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HEARTBEAT_MARKER } from '../arkalia/index.ts';
import type { Probe } from '../scenario/index.ts';
import { runProbe } from './index.ts';
import { probeContext } from './testing.ts';
import { takeTreeSnapshot } from './tree-snapshot.ts';

const STATE = 'modules/zeroia/state/zeroia_state.toml';

describe('matches-snapshot probe', () => {
  it('passes on an unchanged tree and names what changed, went missing or appeared', async () => {
    const ctx = await probeContext();
    ctx.snapshots = { fault: await takeTreeSnapshot({ root: ctx.root, backup: ctx.backupDir, work: ctx.work }) };
    const probe: Probe = {
      probe: 'matches-snapshot',
      in: 'root',
      paths: ['modules/zeroia/state'],
      at: 'fault',
      ignore_heartbeat: false,
    };
    expect(await runProbe(probe, ctx)).toMatchObject({
      ok: true,
      detail: '2 file(s) unchanged since before the fault',
    });
    await writeFile(join(ctx.root, STATE), 'changed = true\n');
    await rm(join(ctx.root, 'modules/zeroia/state/zeroia_decision_log.toml'));
    await writeFile(join(ctx.root, 'modules/zeroia/state/new.toml'), 'x = 1\n');
    await writeFile(join(ctx.root, 'version.toml'), 'outside the paths = true\n');
    expect(await runProbe(probe, ctx)).toMatchObject({
      ok: false,
      detail:
        'modules/zeroia/state/zeroia_decision_log.toml: missing; modules/zeroia/state/zeroia_state.toml: changed; modules/zeroia/state/new.toml: new',
    });
    expect(await runProbe({ ...probe, at: 'recovery' }, ctx)).toMatchObject({
      ok: false,
      detail: 'no snapshot was taken before the recovery',
    });
  });

  it("ignore_heartbeat: only a stand-in's heartbeat block may differ", async () => {
    const ctx = await probeContext();
    const beat = (n: number) => `\n${HEARTBEAT_MARKER}\n[standin]\nsequence = ${n}\n`;
    await writeFile(join(ctx.root, STATE), `a = 1\n${beat(1)}`);
    ctx.snapshots = { recovery: await takeTreeSnapshot({ root: ctx.root, backup: ctx.backupDir, work: ctx.work }) };
    await writeFile(join(ctx.root, STATE), `a = 1\n${beat(2)}`);
    const probe: Probe = {
      probe: 'matches-snapshot',
      in: 'root',
      paths: [STATE],
      at: 'recovery',
      ignore_heartbeat: true,
    };
    expect((await runProbe(probe, ctx)).ok).toBe(true);
    expect((await runProbe({ ...probe, ignore_heartbeat: false }, ctx)).ok).toBe(false);
    await writeFile(join(ctx.root, STATE), `a = 2\n${beat(3)}`);
    expect((await runProbe(probe, ctx)).ok).toBe(false);
  });
});

describe('path-exists, free-space, no-temp-files in a location, and not', () => {
  it('globs a location, with placeholders', async () => {
    const ctx = await probeContext();
    await mkdir(join(ctx.backupDir, 'daily', `arkalia_${ctx.expand!('{date}')}`), { recursive: true });
    expect(
      (await runProbe({ probe: 'path-exists', in: 'backup', glob: 'daily/arkalia_{date}', exists: true }, ctx)).ok,
    ).toBe(true);
    expect(
      (await runProbe({ probe: 'path-exists', in: 'backup', glob: 'daily/arkalia_{date-1d}', exists: true }, ctx)).ok,
    ).toBe(false);
    expect((await runProbe({ probe: 'path-exists', in: 'work', glob: 'keys', exists: false }, ctx)).ok).toBe(true);
  });

  it("free-space compares the file system's free bytes", async () => {
    const ctx = await probeContext();
    expect((await runProbe({ probe: 'free-space', in: 'backup', path: '.', at_most: '16KiB' }, ctx)).ok).toBe(false);
    expect((await runProbe({ probe: 'free-space', in: 'backup', path: '.', at_most: `${2 ** 20}MiB` }, ctx)).ok).toBe(
      true,
    );
  });

  it('no-temp-files looks in the backup folder too', async () => {
    const ctx = await probeContext();
    const probe: Probe = { probe: 'no-temp-files', in: 'backup', paths: ['.'] };
    expect((await runProbe(probe, ctx)).ok).toBe(true);
    await mkdir(join(ctx.backupDir, 'daily', '.arkalia_20260101.partial-1-2'), { recursive: true });
    expect(await runProbe(probe, ctx)).toMatchObject({ ok: false, detail: 'daily/.arkalia_20260101.partial-1-2/' });
    await rm(join(ctx.backupDir, 'daily', '.arkalia_20260101.partial-1-2'), { recursive: true });
    // disk-recovery's work folder, and an upload a sync left half-done
    await mkdir(join(ctx.backupDir, '.ark-disk-recovery-x1'));
    await mkdir(join(ctx.backupDir, 'offsite'));
    await writeFile(join(ctx.backupDir, 'offsite', '.ark-upload-SHA256SUMS.x2'), '');
    expect(await runProbe(probe, ctx)).toMatchObject({
      ok: false,
      detail: '.ark-disk-recovery-x1/, offsite/.ark-upload-SHA256SUMS.x2',
    });
  });

  it('not inverts a probe, but a probe that cannot run proves nothing', async () => {
    const ctx = await probeContext();
    const valid: Probe = { probe: 'toml-valid', glob: STATE, exclude: [] };
    expect((await runProbe({ probe: 'not', of: valid }, ctx)).ok).toBe(false);
    await writeFile(join(ctx.root, STATE), '<<<<<<< HEAD\n');
    expect(await runProbe({ probe: 'not', of: valid }, ctx)).toMatchObject({
      ok: true,
      probe: `not (toml-valid ${STATE})`,
    });
    expect(
      (
        await runProbe(
          { probe: 'not', of: { probe: 'free-space', in: 'backup', path: 'no/such/dir', at_most: '1' } },
          ctx,
        )
      ).ok,
    ).toBe(false);
  });
});
