import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, readRecipientKey, rotateKeyring, signDetached, writeKeyPair } from '../crypto/index.ts';
import { encryptBackup } from './encrypted-backup.ts';
import { localRemote } from '../offsite/index.ts';
import { remoteSync } from '../pipeline/remote-sync.ts';
import { recordingSink } from '../events.ts';
import { runFullBackup } from '../pipeline/backup.ts';
import { localDateStamp } from '../layout/index.ts';
import { resolvePolicy } from '../policy/index.ts';
import { daysAgo, makeBackup } from '../retention/testing.ts';
import { copyFixture, mountTmpfs, tempDir } from '../testing.ts';
import { checklistExitCode, runChecklist, type ChecklistOptions } from './verify.ts';

const policy = resolvePolicy({}, 'test');
const base = async (extra: Partial<ChecklistOptions> = {}): Promise<ChecklistOptions> => ({
  root: await tempDir('ark-root-'),
  backupDir: await tempDir('ark-bk-'),
  policy,
  sink: recordingSink(),
  ...extra,
});
const byCheck = (results: Awaited<ReturnType<typeof runChecklist>>) =>
  Object.fromEntries(results.map((r) => [r.check, r]));

describe('daily', () => {
  it('a stale newest backup misses the schedule (exit 1); a size jump is only a warning', async () => {
    const options = await base();
    for (const days of [3, 4, 5]) await makeBackup(options.backupDir, daysAgo(days));
    await writeFile(
      join(options.backupDir, 'daily', `arkalia_${daysAgo(3)}`, `ollama_models_${daysAgo(3)}.tar.gz`),
      Buffer.alloc(4096),
    );
    const sink = recordingSink();
    const results = await runChecklist(['daily'], { ...options, sink });
    const checks = byCheck(results);
    expect(checks.schedule).toMatchObject({
      status: 'failed',
      detail: expect.stringContaining(`arkalia_${daysAgo(3)} is 3 days old`),
    });
    expect(checks.sizes).toMatchObject({ status: 'warning', detail: expect.stringContaining('not a failure') });
    expect(checks.checksums).toMatchObject({ status: 'ok' });
    expect(checks.offsite?.status).toBe('skipped');
    expect(checklistExitCode(results)).toBe(1);
    expect(sink.events.filter((e) => e.kind === 'verify-check')).toHaveLength(6);
  });

  it("checks that each data set's newest point is within its frequency, and warns on one device and no offsite", async () => {
    const root = await copyFixture();
    const backupDir = await tempDir('ark-bk-');
    const at = new Date();
    await runFullBackup({
      root,
      backupDir,
      date: localDateStamp(at),
      policy,
      sink: () => {},
      point: true,
      now: () => at,
    });
    const options = { root, backupDir, policy, sink: recordingSink() };
    const fresh = byCheck(await runChecklist(['daily'], options));
    expect(fresh.frequencies).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/database 0 min \(≤ PT1H\)/),
    });
    expect(fresh.media).toMatchObject({ status: 'warning' });
    expect(fresh.media?.detail).toMatch(/is on the same device as .*two different media/);
    expect(fresh.media?.detail).toMatch(/no offsite copy is configured/);

    // Two hours later, with no point since: the database (PT1H) and nothing else is late.
    const later = byCheck(
      await runChecklist(['daily'], { ...options, now: () => new Date(at.getTime() + 2 * 3_600_000) }),
    );
    expect(later.frequencies?.status).toBe('failed');
    expect(later.frequencies?.detail).toMatch(
      /^recovery points are late: database \(PT1H, in states\): captured .*, 2\.0 h ago, more than 75 min\. Is full-backup --point scheduled/,
    );
    expect(later.frequencies?.detail).not.toMatch(/logs|configs|models|infra/);

    const disk = await mountTmpfs('16m');
    try {
      const elsewhere = byCheck(
        await runChecklist(['daily'], { ...options, backupDir: disk.dir, offsite: '/srv/offsite' }),
      );
      expect(elsewhere.media).toMatchObject({ status: 'ok', data: { same_device: false, offsite: '/srv/offsite' } });
    } finally {
      await disk.unmount();
    }
  });

  it('names every archive that fails, in every backup (exit 3)', async () => {
    const options = await base();
    await makeBackup(options.backupDir, daysAgo(0), 'mismatch');
    await makeBackup(options.backupDir, daysAgo(1));
    await makeBackup(options.backupDir, daysAgo(2), 'missing-archive');
    const results = await runChecklist(['daily'], options);
    const checks = byCheck(results);
    expect(checks.checksums?.status).toBe('integrity');
    expect(checks.checksums?.detail).toContain(
      `arkalia_${daysAgo(0)}/arkalia_logs_${daysAgo(0)}.tar.gz (sha256 mismatch`,
    );
    expect(checks.checksums?.detail).toContain(`arkalia_${daysAgo(2)}/arkalia_logs_${daysAgo(2)}.tar.gz (missing)`);
    expect(checks.schedule?.status).toBe('ok');
    expect(checklistExitCode(results)).toBe(3);
  });
});

describe('weekly', () => {
  it('test-restores a real backup into a sandbox and reports the diff, prune dry run, capacity', async () => {
    const root = await copyFixture();
    const backupDir = await tempDir('ark-bk-');
    await runFullBackup({
      root,
      backupDir,
      date: localDateStamp(new Date()),
      policy,
      sink: () => {},
      gitCommit: async () => null,
      host: 'test',
    });
    await writeFile(join(root, 'version.toml'), 'version = "changed-since-backup"\n');
    const results = await runChecklist(['weekly'], { root, backupDir, policy, sink: recordingSink() });
    const checks = byCheck(results);
    expect(checks['test-restore']).toMatchObject({
      status: 'ok',
      data: { diff: { added: 0, removed: 0, changed: 1 } },
    });
    expect(checks['test-restore']?.detail).toMatch(/1 changed/);
    expect(checks['prune-dry-run']).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('would delete nothing'),
    });
    expect(checks.capacity?.status).toBe('ok');
    expect(checks['log-audit']).toMatchObject({ status: 'skipped', detail: expect.stringContaining('no backup log') });
    expect(checklistExitCode(results)).toBe(0);
    const full = byCheck(
      await runChecklist(['weekly'], { root, backupDir, policy, sink: recordingSink(), freeBytes: async () => 10 }),
    );
    expect(full.capacity?.status).toBe('failed');
  });
});

describe('monthly', () => {
  it('flags tampered evidence, an overdue key, and skips the offsite decrypt without --offsite/--key', async () => {
    const reportsDir = await tempDir('ark-reports-');
    const dir = join(reportsDir, 'evidence', 'run-1');
    await mkdir(dir, { recursive: true });
    const json = Buffer.from(`${JSON.stringify({ generated_at: new Date().toISOString(), ok: true })}\n`);
    const signer = await generateKeyPair({ userId: 'drill evidence <evidence@localhost>' });
    await writeFile(join(dir, 'evidence.json'), json);
    await writeFile(join(dir, 'evidence.json.asc'), await signDetached(json, signer.unlocked));
    await writeFile(join(dir, 'signer.pub.asc'), signer.publicKey);
    const keyring = join(await tempDir('ark-keys-'), 'keyring');
    await rotateKeyring({ dir: keyring, now: () => new Date(Date.now() - 40 * 86_400_000) });
    const options = await base({ reportsDir, keyring });

    const good = byCheck(await runChecklist(['monthly'], options));
    expect(good.evidence).toMatchObject({ status: 'ok', detail: expect.stringContaining('npm run drill') });
    expect(good['key-rotation']).toMatchObject({ status: 'warning', detail: expect.stringContaining('rotation due') });
    expect(good['offsite-decrypt']).toMatchObject({ status: 'skipped', detail: 'skipped: needs --offsite and --key' });

    await writeFile(
      join(dir, 'evidence.json'),
      (await readFile(join(dir, 'evidence.json'), 'utf8')).replace('"ok":true', '"ok":false'),
    );
    const results = await runChecklist(['monthly'], options);
    expect(byCheck(results).evidence).toMatchObject({
      status: 'failed',
      detail: expect.stringContaining('does NOT verify'),
    });
    expect(checklistExitCode(results)).toBe(1);
  });
});

describe('offsite', () => {
  it('daily: reachable with SHA256SUMS; monthly: the newest .gpg downloads and decrypts to the manifest sha256; a damaged copy is integrity', async () => {
    const root = await copyFixture();
    const backupDir = await tempDir('ark-bk-');
    await runFullBackup({
      root,
      backupDir,
      date: localDateStamp(new Date()),
      policy,
      sink: () => {},
      gitCommit: async () => null,
      host: 'test',
    });
    const pair = await generateKeyPair({});
    const keys = await writeKeyPair(await tempDir('ark-keys-'), 'backup', pair);
    await encryptBackup({ backupDir, policy, recipients: [await readRecipientKey(keys.publicFile)], sink: () => {} });
    const offsite = join(await tempDir('ark-offsite-'), 'offsite');
    await mkdir(offsite);
    await remoteSync({ backupDir, remote: localRemote(offsite), sink: () => {} });
    const options = { root, backupDir, policy, sink: recordingSink(), offsite, key: keys.secretFile };

    const checks = byCheck(await runChecklist(['daily', 'monthly'], options));
    expect(checks.offsite).toMatchObject({ status: 'ok', detail: expect.stringContaining('SHA256SUMS present') });
    expect(checks['offsite-decrypt']).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('matching encrypted_manifest.json'),
    });

    const gpg = (await readdir(offsite)).filter((n) => n.endsWith('.gpg')).sort();
    const sample = checks['offsite-decrypt']!.data!.file as string;
    expect(gpg).toContain(sample);
    const bytes = await readFile(join(offsite, sample));
    bytes[bytes.length - 10]! ^= 0xff;
    await writeFile(join(offsite, sample), bytes);
    const damaged = byCheck(await runChecklist(['monthly'], options));
    expect(damaged['offsite-decrypt']?.status).toBe('integrity');
    expect(damaged['offsite-decrypt']?.detail).toContain(sample);
  });
});
