import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { sha256Buffer } from '../checksum/index.ts';
import { recordingSink, type ArkEvent } from '../events.ts';
import { localRemote, withFaults, type FaultOptions } from '../offsite/index.ts';
import { writeEncrypted } from '../offsite/testing/encrypted-dir.ts';
import { mountTmpfs } from '../offsite/testing/tmpfs.ts';
import { tempDir } from '../testing.ts';
import { remoteSync } from './remote-sync.ts';

const run = promisify(execFile);
const states = (date: string) => `arkalia_states_${date}.tar.gz.gpg`;
const noWait = { sleep: async () => {}, random: () => 0.5 };

async function setup(faults: FaultOptions = {}) {
  const backupDir = await tempDir('ark-sync-');
  const remoteDir = join(await tempDir('ark-offsite-'), 'offsite');
  await mkdir(remoteDir);
  const remote = withFaults(localRemote(remoteDir), faults);
  const sync = async (options: { dryRun?: boolean } = {}) => {
    const sink = recordingSink();
    const report = await remoteSync({ backupDir, remote, sink, retry: noWait, ...options });
    return { report, events: sink.events };
  };
  return { backupDir, remoteDir, remote, sync };
}

const kinds = (events: ArkEvent[], kind: ArkEvent['kind']) => events.filter((e) => e.kind === kind);
const planOf = (events: ArkEvent[]) =>
  Object.fromEntries(events.flatMap((e) => (e.kind === 'offsite-plan' ? [[e.name, e.action]] : [])));
const files = async (dir: string) => (await readdir(dir)).sort();

describe('remoteSync', () => {
  it('uploads verified files, checks them on the remote, publishes SHA256SUMS last; a second run changes nothing', async () => {
    const { backupDir, remoteDir, remote, sync } = await setup();
    const a = randomBytes(3000);
    await writeEncrypted(
      backupDir,
      { [states('20261124')]: a, [states('20261125')]: 'b', 'notes.tmp': 'scratch' },
      { unlisted: ['notes.tmp'] },
    );
    const first = await sync();
    expect(first.report.uploaded.map((u) => u.name)).toEqual([states('20261124'), states('20261125')]);
    expect(first.report).toMatchObject({
      filesUploaded: 2,
      bytesUploaded: 3001,
      problems: [],
      remote: { files: 2, bytes: 3001 },
      succeededAt: expect.stringMatching(/^\d{4}-/),
    });
    expect(kinds(first.events, 'offsite-verified')).toHaveLength(2);
    expect(await files(remoteDir)).toEqual(['SHA256SUMS', states('20261124'), states('20261125')]);
    // The remote SHA256SUMS is what GNU sha256sum checks there; it is written after the uploads.
    expect((await run('sha256sum', ['-c', 'SHA256SUMS'], { cwd: remoteDir })).stdout).toContain(
      `${states('20261125')}: OK`,
    );
    const order = remote.calls.filter((c) => c.operation === 'put').map((c) => c.name);
    expect(order).toEqual([states('20261124'), states('20261125'), 'SHA256SUMS']);

    const mtimes = await Promise.all(
      (await files(remoteDir)).map(async (n) => (await stat(join(remoteDir, n))).mtimeMs),
    );
    remote.calls.length = 0;
    const second = await sync();
    expect(remote.calls.filter((c) => c.operation === 'put' || c.operation === 'delete')).toEqual([]);
    expect(second.report).toMatchObject({ filesUploaded: 0, bytesUploaded: 0, deleted: [], problems: [] });
    expect(planOf(second.events)).toEqual({ [states('20261124')]: 'skip', [states('20261125')]: 'skip' });
    expect(
      await Promise.all((await files(remoteDir)).map(async (n) => (await stat(join(remoteDir, n))).mtimeMs)),
    ).toEqual(mtimes);
  });

  it('deletes old copies only once a newer copy of the same kind is verified offsite; never the newest, never undated files', async () => {
    const { backupDir, remoteDir, sync } = await setup();
    await writeEncrypted(backupDir, {
      [states('20261123')]: '23',
      [states('20261124')]: '24',
      'arkalia_logs_20261120.tar.gz.gpg': 'logs',
      'notes.gpg': 'n',
    });
    await sync();
    // Local retention pruned everything but a new states archive.
    await writeEncrypted(backupDir, { [states('20261125')]: '25' });
    const { report, events } = await sync();
    expect(planOf(events)).toEqual({
      [states('20261123')]: 'delete',
      [states('20261124')]: 'delete',
      [states('20261125')]: 'upload',
      'arkalia_logs_20261120.tar.gz.gpg': 'keep',
      'notes.gpg': 'keep',
    });
    expect(report.deleted).toEqual([states('20261123'), states('20261124')]);
    expect(await files(remoteDir)).toEqual([
      'SHA256SUMS',
      'arkalia_logs_20261120.tar.gz.gpg',
      states('20261125'),
      'notes.gpg',
    ]);
    await run('sha256sum', ['-c', 'SHA256SUMS'], { cwd: remoteDir });
    expect(await readFile(join(remoteDir, 'SHA256SUMS'), 'utf8')).not.toContain(states('20261124'));

    // A wiped local folder prunes nothing: the offsite history is all that is left.
    await writeEncrypted(backupDir, { [states('20261125')]: '25', [states('20261126')]: '26' });
    await sync();
    await writeEncrypted(backupDir, {});
    const wiped = await sync();
    expect(wiped.report.deleted).toEqual([]);
    expect(await files(remoteDir)).toEqual([
      'SHA256SUMS',
      'arkalia_logs_20261120.tar.gz.gpg',
      states('20261125'),
      states('20261126'),
      'notes.gpg',
    ]);
  });

  it('a newer copy that fails verification on the remote is removed, reported (exit 3), and the old copy is kept', async () => {
    const { backupDir, remoteDir, sync } = await setup({ flipBitOnPut: (name) => name === states('20261125') });
    await writeEncrypted(backupDir, { [states('20261124')]: 'good old copy' });
    await sync();
    await writeEncrypted(backupDir, { [states('20261125')]: 'new copy, corrupted on the way' });
    const { report, events } = await sync();
    expect(report.problems).toEqual([
      expect.objectContaining({ name: states('20261125'), code: 'OFFSITE_VERIFY_MISMATCH' }),
    ]);
    expect(report.succeededAt).toBeNull();
    expect(report.deleted).toEqual([]);
    expect(kinds(events, 'warning').map((e) => (e as { code: string }).code)).toEqual(
      expect.arrayContaining(['OFFSITE_VERIFY_MISMATCH', 'OFFSITE_DELETE_SKIPPED']),
    );
    expect(await files(remoteDir)).toEqual(['SHA256SUMS', states('20261124')]);
    expect(await readFile(join(remoteDir, states('20261124')), 'utf8')).toBe('good old copy');
  });

  it('a local file that does not match its SHA256SUMS is not sent and its offsite copy is kept (exit 3)', async () => {
    const { backupDir, remoteDir, sync } = await setup();
    await writeEncrypted(backupDir, { [states('20261124')]: 'v1', [states('20261125')]: 'v2' });
    await sync();
    await writeEncrypted(
      backupDir,
      { [states('20261124')]: 'v1', [states('20261125')]: 'v2', [states('20261126')]: 'v3' },
      { corrupt: [states('20261126')], unlisted: [states('20261125')] },
    );
    const { report, events } = await sync();
    expect(report.problems.map((p) => [p.name, p.code])).toEqual([
      [states('20261125'), 'LOCAL_UNVERIFIED'],
      [states('20261126'), 'LOCAL_UNVERIFIED'],
    ]);
    expect(planOf(events)).toEqual({ [states('20261124')]: 'skip', [states('20261125')]: 'keep' });
    expect(await readFile(join(remoteDir, states('20261125')), 'utf8')).toBe('v2');
    expect(await files(remoteDir)).not.toContain(states('20261126'));
  });

  it('--dry-run: the plan with reasons, and not one change (writes are refused by the read-only wrapper)', async () => {
    const { backupDir, remoteDir, remote, sync } = await setup();
    await writeEncrypted(backupDir, { [states('20261123')]: '23', [states('20261124')]: '24' });
    await sync();
    await writeEncrypted(backupDir, { [states('20261125')]: '25' });
    await writeFile(join(remoteDir, '.ark-upload-x.gpg.1234'), 'leftover');
    const before = await files(remoteDir);
    remote.calls.length = 0;
    const { report, events } = await sync({ dryRun: true });
    expect(report.dryRun).toBe(true);
    expect(planOf(events)).toEqual({
      '.ark-upload-x.gpg.1234': 'cleanup',
      [states('20261123')]: 'delete',
      [states('20261124')]: 'delete',
      [states('20261125')]: 'upload',
    });
    expect(kinds(events, 'offsite-plan').every((e) => (e as { reason: string }).reason.length > 10)).toBe(true);
    expect(kinds(events, 'dry-run')).toHaveLength(1);
    expect(remote.calls.filter((c) => c.operation === 'put' || c.operation === 'delete')).toEqual([]);
    expect(await files(remoteDir)).toEqual(before);
    expect(report.succeededAt).toBeNull();
  });

  it('a flaky remote (every 3rd call fails): retries are reported as events, and the result is complete and verified', async () => {
    const { backupDir, remoteDir, sync } = await setup({ failEvery: { n: 3 } });
    await writeEncrypted(backupDir, {
      [states('20261124')]: 'a',
      [states('20261125')]: 'b',
      'arkalia_infra_20261125.tar.gz.gpg': 'c',
    });
    const { report, events } = await sync();
    const retries = kinds(events, 'offsite-retry');
    expect(retries.length).toBeGreaterThanOrEqual(3);
    expect(retries[0]).toMatchObject({ code: 'REMOTE_TRANSIENT', attempt: 1, delayMs: 500 });
    expect(report.problems).toEqual([]);
    expect(report.filesUploaded).toBe(3);
    await run('sha256sum', ['-c', '--strict', 'SHA256SUMS'], { cwd: remoteDir });
  });

  it('replacing a file the remote vouches for (re-encrypted): the old entry is withdrawn first, the new one verified', async () => {
    const { backupDir, remoteDir, remote, sync } = await setup();
    await writeEncrypted(backupDir, { [states('20261125')]: 'first encryption' });
    await sync();
    await writeEncrypted(backupDir, { [states('20261125')]: 'second encryption' });
    remote.calls.length = 0;
    const { report } = await sync();
    expect(report.uploaded.map((u) => u.name)).toEqual([states('20261125')]);
    expect(remote.calls.filter((c) => c.operation === 'put').map((c) => c.name)).toEqual([
      'SHA256SUMS',
      states('20261125'),
      'SHA256SUMS',
    ]);
    expect(await readFile(join(remoteDir, 'SHA256SUMS'), 'utf8')).toBe(
      `${sha256Buffer('second encryption')}  ${states('20261125')}\n`,
    );
  });

  it('disk full on the target: fails clearly (exit 1), nothing half-published, SHA256SUMS still true, old copies kept', async () => {
    const fs = await mountTmpfs('1m');
    try {
      const backupDir = await tempDir('ark-sync-');
      const sink = recordingSink();
      await writeEncrypted(backupDir, { [states('20261124')]: 'old good copy' });
      await remoteSync({ backupDir, remote: localRemote(fs.dir), sink, retry: noWait });
      await writeEncrypted(backupDir, {
        'a_20261125.gpg': randomBytes(300 * 1024),
        [states('20261125')]: randomBytes(2 * 1024 * 1024),
      });
      const error = await remoteSync({ backupDir, remote: localRemote(fs.dir), sink, retry: noWait }).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'REMOTE_NO_SPACE', exitCode: 1, message: expect.stringContaining(fs.dir) });
      expect(kinds(sink.events, 'offsite-retry')).toEqual([]);
      expect(await files(fs.dir)).toEqual(['SHA256SUMS', 'a_20261125.gpg', states('20261124')]);
      await run('sha256sum', ['-c', '--strict', 'SHA256SUMS'], { cwd: fs.dir });
    } finally {
      await fs.unmount();
    }
  });

  it('removes leftovers of interrupted uploads; refuses a folder without SHA256SUMS (exit 3) or no folder at all (exit 1)', async () => {
    const { backupDir, remoteDir, sync } = await setup();
    await writeEncrypted(backupDir, { [states('20261125')]: 'x' });
    await writeFile(join(remoteDir, '.ark-upload-arkalia_states_20261125.tar.gz.gpg.dead'), 'half');
    await sync();
    expect(await files(remoteDir)).toEqual(['SHA256SUMS', states('20261125')]);

    await writeFile(join(backupDir, 'encrypted', 'SHA256SUMS'), '');
    const { rm } = await import('node:fs/promises');
    await rm(join(backupDir, 'encrypted', 'SHA256SUMS'));
    await expect(sync()).rejects.toMatchObject({ code: 'ENCRYPTED_SUMS_MISSING', exitCode: 3 });
    await expect(
      remoteSync({ backupDir: join(backupDir, 'nope'), remote: localRemote(remoteDir), sink: () => {} }),
    ).rejects.toMatchObject({ code: 'ENCRYPTED_DIR_MISSING', exitCode: 1 });
  });
});
