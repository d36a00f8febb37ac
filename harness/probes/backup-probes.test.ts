import { execFile } from 'node:child_process';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as openpgp from 'openpgp';
import { describe, expect, it } from 'vitest';
import { sha256Buffer } from '../../lib/checksum/index.ts';
import { generateKeyPair } from '../../lib/crypto/index.ts';
import { withHeartbeat } from '../arkalia/index.ts';
import { runProbe } from './index.ts';
import { probeContext } from './testing.ts';

const run = promisify(execFile);
const STATE = 'modules/zeroia/state/zeroia_state.toml';

/** A daily backup made with GNU tar and sha256sum, as the runbook's bash did. */
async function gnuBackup(ctx: { root: string; backupDir: string }, date: string): Promise<string> {
  const dir = join(ctx.backupDir, 'daily', `arkalia_${date}`);
  await mkdir(dir, { recursive: true });
  await run('tar', ['-czf', join(dir, `arkalia_states_${date}.tar.gz`), 'modules/zeroia/state'], { cwd: ctx.root });
  const { stdout } = await run('sha256sum', [`arkalia_states_${date}.tar.gz`], { cwd: dir });
  await writeFile(join(dir, `checksums_${date}.sha256`), stdout);
  return dir;
}

describe('backup-verifies probe (GNU sha256sum -c, tar -tzf)', () => {
  it('passes on a sound backup, fails on a flipped byte, a truncated archive, a missing checksum file', async () => {
    const ctx = await probeContext();
    await gnuBackup(ctx, '20260101');
    const dir = await gnuBackup(ctx, '20260102');
    expect(await runProbe({ probe: 'backup-verifies', date: 'newest' }, ctx)).toMatchObject({
      ok: true,
      probe: 'backup-verifies newest',
    });
    const archive = join(dir, 'arkalia_states_20260102.tar.gz');
    const bytes = await readFile(archive);
    await writeFile(archive, Buffer.concat([bytes.subarray(0, 20), Buffer.from([bytes[20]! ^ 1]), bytes.subarray(21)]));
    expect(await runProbe({ probe: 'backup-verifies', date: 'newest' }, ctx)).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/sha256sum -c .*FAILED/),
    });
    // Truncated, with a checksum that matches the truncation: only tar can tell.
    await writeFile(archive, bytes.subarray(0, bytes.length - 40));
    await writeFile(
      join(dir, 'checksums_20260102.sha256'),
      (await run('sha256sum', ['arkalia_states_20260102.tar.gz'], { cwd: dir })).stdout,
    );
    expect(await runProbe({ probe: 'backup-verifies', date: '20260102' }, ctx)).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/^tar -tzf/),
    });
    expect((await runProbe({ probe: 'backup-verifies', date: '20260101' }, ctx)).ok).toBe(true);
    expect(await runProbe({ probe: 'backup-verifies', date: '20250101' }, ctx)).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/no backup of 20250101 .*has 20260102, 20260101/),
    });
  });
});

describe('checksums-verify and offsite-matches probes (a local offsite folder)', () => {
  it('verifies an offsite SHA256SUMS and the offsite copies byte for byte', async () => {
    const ctx = await probeContext();
    await mkdir(join(ctx.backupDir, 'encrypted'));
    const data = Buffer.from('pretend ciphertext');
    const line = `${sha256Buffer(data)}  arkalia_states_20260101.tar.gz.gpg\n`;
    for (const dir of [join(ctx.backupDir, 'encrypted'), join(ctx.work, 'offsite')]) {
      await writeFile(join(dir, 'arkalia_states_20260101.tar.gz.gpg'), data);
      await writeFile(join(dir, 'SHA256SUMS'), line);
    }
    expect((await runProbe({ probe: 'checksums-verify', in: 'work', file: 'offsite/SHA256SUMS' }, ctx)).ok).toBe(true);
    expect(await runProbe({ probe: 'offsite-matches', target: '{work}/offsite' }, ctx)).toMatchObject({
      ok: true,
      detail: expect.stringMatching(/^1 file\(s\) identical on \//),
    });
    await appendFile(join(ctx.work, 'offsite', 'arkalia_states_20260101.tar.gz.gpg'), 'x');
    expect((await runProbe({ probe: 'checksums-verify', in: 'work', file: 'offsite/SHA256SUMS' }, ctx)).ok).toBe(false);
    expect(await runProbe({ probe: 'offsite-matches', target: '{work}/offsite' }, ctx)).toMatchObject({
      ok: false,
      detail: 'arkalia_states_20260101.tar.gz.gpg: differs on the target',
    });
    expect((await runProbe({ probe: 'checksums-verify', in: 'work', file: 'nowhere/SHA256SUMS' }, ctx)).ok).toBe(false);
  });
});

describe('snapshot-matches-state probe', () => {
  it('newest snapshot byte-identical for valid states; an invalid state never snapshotted; every snapshot valid', async () => {
    const ctx = await probeContext();
    const snaps = join(ctx.backupDir, 'realtime', 'modules/zeroia/state');
    await mkdir(snaps, { recursive: true });
    const live = await readFile(join(ctx.root, STATE));
    await writeFile(join(snaps, 'zeroia_state.toml.20260101_000000'), 'old = true\n');
    await writeFile(join(snaps, 'zeroia_state.toml.20260101_000000_001'), live);
    const probe = { probe: 'snapshot-matches-state', glob: STATE } as const;
    expect(await runProbe(probe, ctx)).toMatchObject({
      ok: true,
      detail: '1 snapshot(s) byte-identical to their state file; 0 invalid file(s) never snapshotted',
    });
    await writeFile(join(ctx.root, STATE), '<<<<<<< HEAD\n');
    expect(await runProbe(probe, ctx)).toMatchObject({
      ok: true,
      detail: '0 snapshot(s) byte-identical to their state file; 1 invalid file(s) never snapshotted',
    });
    await writeFile(join(snaps, 'zeroia_state.toml.20260101_000001'), '<<<<<<< HEAD\n');
    expect(await runProbe(probe, ctx)).toMatchObject({
      ok: false,
      detail: expect.stringMatching(
        /is not valid TOML.*invalid, yet snapshotted as zeroia_state\.toml\.20260101_000001/,
      ),
    });
    await writeFile(join(ctx.root, STATE), live);
    expect(await runProbe(probe, ctx)).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/newest snapshot zeroia_state\.toml\.20260101_000001 differs/),
    });
  });

  it("a running service's newer heartbeat is not a difference; anything else is", async () => {
    const ctx = await probeContext();
    const snaps = join(ctx.backupDir, 'realtime', 'modules/zeroia/state');
    await mkdir(snaps, { recursive: true });
    const base = await readFile(join(ctx.root, STATE), 'utf8');
    const beat = (sequence: number) => ({ service: 'zeroia', sequence, writtenAt: `2026-12-01T00:00:0${sequence}Z` });
    await writeFile(join(snaps, 'zeroia_state.toml.20260101_000000'), withHeartbeat(base, beat(1)));
    await writeFile(join(ctx.root, STATE), withHeartbeat(base, beat(4)));
    const probe = { probe: 'snapshot-matches-state', glob: STATE } as const;
    expect(await runProbe(probe, ctx)).toMatchObject({
      ok: true,
      detail: expect.stringMatching(/1 equal to it but for the heartbeat its service wrote since/),
    });
    await writeFile(join(ctx.root, STATE), withHeartbeat(`${base}extra = 1\n`, beat(5)));
    expect(await runProbe(probe, ctx)).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/differs from the live file/),
    });
  });
});

describe('gpg-decrypts probe (GnuPG, not our code)', () => {
  it('decrypts with the offline key to the recorded sha256; fails with another key or another record', async () => {
    const ctx = await probeContext();
    const [right, wrong] = [await generateKeyPair(), await generateKeyPair()];
    await mkdir(join(ctx.work, 'keys'));
    await writeFile(join(ctx.work, 'keys', 'right.sec.asc'), right.privateKey);
    await writeFile(join(ctx.work, 'keys', 'wrong.sec.asc'), wrong.privateKey);
    const plaintext = Buffer.from('the states archive');
    const encrypted = await openpgp.encrypt({
      message: await openpgp.createMessage({ binary: plaintext }),
      encryptionKeys: await openpgp.readKey({ armoredKey: right.publicKey }),
      format: 'binary',
    });
    const dir = join(ctx.work, 'offsite');
    await writeFile(join(dir, 'arkalia_states_20260101.tar.gz.gpg'), encrypted as Uint8Array);
    const record = (sha: string) =>
      writeFile(
        join(dir, 'encrypted_manifest.json'),
        JSON.stringify({ files: { 'arkalia_states_20260101.tar.gz.gpg': { source_sha256: sha } } }),
      );
    await record(sha256Buffer(plaintext));
    const probe = {
      probe: 'gpg-decrypts',
      in: 'work',
      glob: 'offsite/*.gpg',
      key_in: 'work',
      key: 'keys/right.sec.asc',
    } as const;
    expect(await runProbe(probe, ctx)).toMatchObject({
      ok: true,
      detail: '1 file(s) decrypted by GnuPG to their recorded sha256',
    });
    expect(await runProbe({ ...probe, key: 'keys/wrong.sec.asc' }, ctx)).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/gpg --decrypt exit 2/),
    });
    await record('0'.repeat(64));
    expect(await runProbe(probe, ctx)).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/the manifest records 0000/),
    });
  });
});
