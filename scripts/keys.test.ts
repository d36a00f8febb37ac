// scripts/keys.mts as an operator runs it: generate, list, rotate (with --reencrypt), checked
// with gpg and by decrypting what rotation leaves behind.
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { silentSink } from '../lib/events.ts';
import { encryptBackup } from '../lib/pipeline/encrypted-backup.ts';
import {
  decryptFile,
  inspectEncryptedFile,
  readKeyring,
  readPrivateKeys,
  readRecipientKey,
  rotateKeyring,
  currentRecipient,
} from '../lib/crypto/index.ts';
import { flipByte, gnupgHome, payloadFile } from '../lib/crypto/testing.ts';
import { resolvePolicy } from '../lib/policy/index.ts';
import { REPO_ROOT, tempDir } from '../lib/testing.ts';
import { envelopeOf, resultOf, runScript, type ScriptRun } from './testing.ts';

const run = promisify(execFile);
const SCRIPT = join(REPO_ROOT, 'scripts', 'keys.mts');
const BACKUP_SCRIPT = join(REPO_ROOT, 'scripts', 'encrypted-backup.mts');

// Not killed before the rotation tests' own timeout (120 s).
const node = (script: string, args: string[], env?: Record<string, string>) =>
  runScript(script, args, env, { timeoutMs: 120_000 });
const keys = (args: string[], env?: Record<string, string>) => node(SCRIPT, args, env);

function expectNoStackTrace(outcome: ScriptRun): void {
  expect(outcome.stderr).not.toMatch(/^\s+at /m);
  expect(outcome.stdout).not.toMatch(/^\s+at /m);
}

async function passFile(text: string): Promise<string> {
  const file = join(await tempDir('ark-pass-'), 'pass');
  await writeFile(file, `${text}\n`, { mode: 0o600 });
  return file;
}

/** A backup folder with daily backups holding only a states archive and its checksum file. */
async function fakeBackups(dates: string[]): Promise<{ backupDir: string; archives: Map<string, Buffer> }> {
  const backupDir = await tempDir('ark-backup-');
  const archives = new Map<string, Buffer>();
  for (const date of dates) {
    const dir = join(backupDir, 'daily', `arkalia_${date}`);
    await mkdir(dir, { recursive: true });
    const name = `arkalia_states_${date}.tar.gz`;
    const sha = await payloadFile(join(dir, name), 300_000 + Number(date.slice(-2)) * 1000);
    await writeFile(join(dir, `checksums_${date}.sha256`), `${sha}  ${name}\n`);
    // A runbook-style manifest: when the backup ran is recorded with the .gpg (and must survive a re-encryption).
    const backupDate = `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6)}T03:00:00+02:00`;
    await writeFile(
      join(dir, `backup_manifest_${date}.json`),
      `${JSON.stringify({ backup_date: backupDate, arkalia_version: null, backup_size_mb: 1, files_count: 3, git_commit: null, host: 'h', backup_type: 'full_daily' })}\n`,
    );
    archives.set(`${name}.gpg`, await readFile(join(dir, name)));
  }
  return { backupDir, archives };
}

describe.concurrent('keys.mts: command line', { timeout: 90_000 }, () => {
  it('--help documents the commands and the keyring layout; bad input is exit 2 (1 for a missing keyring), no stack trace', async () => {
    const help = await keys(['--help']);
    expect(help.code, help.stderr).toBe(0);
    for (const text of [
      'generate --out-dir DIR',
      '--name NAME',
      'list --keyring DIR',
      'rotate --keyring DIR',
      '--reencrypt',
      'current ',
      '<FPR>.pub.asc',
      '<FPR>.sec.asc',
      'retired',
      '--passphrase-file FILE',
      'ARK_PASSPHRASE',
    ]) {
      expect(help.stdout).toContain(text);
    }
    const missing = join(await tempDir('ark-nokeyring-'), 'absent');
    const cases: { args: string[]; code: number; message: RegExp }[] = [
      { args: [], code: 2, message: /expected a command: generate, list, rotate/ },
      {
        args: ['generate'],
        code: 2,
        message: /generate needs --keyring DIR \(a keyring for encrypted-backup --keyring\) or --out-dir DIR/,
      },
      {
        args: ['rotate', '--keyring', missing, '--no-new-key'],
        code: 2,
        message: /--no-new-key only makes sense with --reencrypt/,
      },
      { args: ['list', '--keyring', missing, '--json'], code: 1, message: /no keyring at .*absent \(ENOENT\)/ },
    ];
    const outcomes = await Promise.all(cases.map((c) => keys(c.args)));
    outcomes.forEach((outcome, i) => {
      const c = cases[i]!;
      expect(outcome.code, `${c.args.join(' ')}\n${outcome.stderr}`).toBe(c.code);
      expect(outcome.stderr).toMatch(c.message);
      expectNoStackTrace(outcome);
    });
    expect(envelopeOf(outcomes[3]!, 'keys')).toMatchObject({
      ok: false,
      exit_code: 1,
      error: { code: 'KEYRING_MISSING' },
    });
  });

  it('generate writes <name>.pub.asc 0644 and <name>.sec.asc 0600, passphrase-protected; GnuPG imports and uses it; never overwrites', async () => {
    const out = join(await tempDir('ark-gen-'), 'keys');
    const pass = await passFile('generate passphrase');
    const first = await keys([
      'generate',
      '--out-dir',
      out,
      '--name',
      'offsite',
      '--user-id',
      'Backup Ops <ops@system.local>',
      '--passphrase-file',
      pass,
      '--json',
    ]);
    expect(first.code, first.stderr).toBe(0);
    const result = resultOf(first, 'keys');
    expect(result.key).toMatchObject({
      algorithm: 'ed25519/cv25519',
      version: 4,
      user_ids: ['Backup Ops <ops@system.local>'],
      has_secret: true,
      passphrase_protected: true,
    });
    expect((await readdir(out)).sort()).toEqual(['offsite.pub.asc', 'offsite.sec.asc']);
    expect((await stat(join(out, 'offsite.pub.asc'))).mode & 0o777).toBe(0o644);
    expect((await stat(join(out, 'offsite.sec.asc'))).mode & 0o777).toBe(0o600);
    expect(first.stderr).not.toContain('generate passphrase');
    await expect(readPrivateKeys(join(out, 'offsite.sec.asc'))).rejects.toMatchObject({ code: 'PASSPHRASE_REQUIRED' });

    const home = await gnupgHome();
    try {
      await home.gpgOk(['--import', join(out, 'offsite.sec.asc')], { passphrase: 'generate passphrase' });
      const listing = (await home.gpgOk(['--with-colons', '--list-secret-keys'])).stdout.toString();
      expect(listing).toContain(`fpr:::::::::${result.key.fingerprint}:`);
      expect(listing).toMatch(/^ssb:.*:cv25519:/m);
      // What gpg encrypts to it (no --compress-algo given), our lib decrypts: the key asks for no compression.
      const plain = join(out, 'plain');
      await writeFile(plain, 'offsite test\n');
      await home.gpgOk([
        '--trust-model',
        'always',
        '--recipient',
        result.key.fingerprint,
        '--output',
        `${plain}.gpg`,
        '--encrypt',
        plain,
      ]);
      expect(
        (await home.gpgOk(['--list-packets', `${plain}.gpg`], { passphrase: 'generate passphrase' })).stdout.toString(),
      ).not.toContain('compressed packet');
      const back = await decryptFile({
        source: `${plain}.gpg`,
        target: `${plain}.out`,
        keys: await readPrivateKeys(join(out, 'offsite.sec.asc'), { passphrases: ['generate passphrase'] }),
      });
      expect(await readFile(back.file, 'utf8')).toBe('offsite test\n');
    } finally {
      await home.close();
    }

    const before = await readFile(join(out, 'offsite.sec.asc'));
    const again = await keys(['generate', '--out-dir', out, '--name', 'offsite']);
    expect(again.code, again.stderr).toBe(1);
    expect(again.stderr).toMatch(/offsite\.pub\.asc already exists; refusing to overwrite a key/);
    expectNoStackTrace(again);
    expect((await readFile(join(out, 'offsite.sec.asc'))).equals(before)).toBe(true);
  });

  it('generate --keyring makes a keyring encrypted-backup --keyring takes; an --out-dir folder given as a keyring is refused, naming both ways out', async () => {
    const base = await tempDir('ark-gen-');
    const files = join(base, 'files');
    const ring = join(base, 'ring');
    const [plain, made] = await Promise.all([
      keys(['generate', '--out-dir', files]),
      keys(['generate', '--keyring', ring, '--json']),
    ]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(made.code, made.stderr).toBe(0);
    const current = resultOf(made, 'keys').current;
    expect((await readKeyring(ring)).current).toBe(current);
    expect((await currentRecipient(ring)).info.fingerprint).toBe(current);
    await expect(currentRecipient(files)).rejects.toMatchObject({
      code: 'KEYRING_INVALID',
      message: `${files} is not a keyring: it holds key files as keys generate --out-dir writes them (arkalia-backup.pub.asc). Encrypt to one with --recipient ${join(files, 'arkalia-backup.pub.asc')}, or make a keyring with keys generate --keyring NEW_DIR`,
    });
    // A keyring is made once; a folder with other files is not made one.
    const [twice, into] = await Promise.all([
      keys(['generate', '--keyring', ring]),
      keys(['generate', '--keyring', files]),
    ]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/is already a keyring \(1 key\(s\), current [0-9A-F]{40}\): keys rotate --keyring/);
    expect(into.code).toBe(2);
    expect(into.stderr).toMatch(
      /is not empty and not a keyring \(it holds arkalia-backup\.pub\.asc, arkalia-backup\.sec\.asc\)/,
    );
    expect((await readKeyring(ring)).keys).toHaveLength(1);
  });
});

describe.concurrent('keys.mts: rotation', { timeout: 120_000 }, () => {
  it('rotate makes a new current key, old ones stay and still decrypt old backups; --reencrypt moves every backup to the new key, byte-identical', async () => {
    const ring = join(await tempDir('ark-ring-'), 'keyring');
    const pass = await passFile('ring passphrase');
    const { backupDir, archives } = await fakeBackups(['20260501', '20260502']);
    const encryptedDir = join(backupDir, 'encrypted');
    const backup = (date: string) =>
      node(BACKUP_SCRIPT, ['--root', backupDir, '--backup-dir', backupDir, '--keyring', ring, '--date', date]);

    // Month 1: the first rotation creates the keyring; a backup is encrypted to its key.
    const create = await keys(['rotate', '--keyring', ring, '--passphrase-file', pass]);
    expect(create.code, create.stderr).toBe(0);
    const key1 = (await readKeyring(ring)).current!;
    expect((await backup('20260501')).code).toBe(0);

    // Month 2: rotate; the next backup goes to the new key; the old one is retired, kept, and still opens the old backup.
    const second = await keys(['rotate', '--keyring', ring, '--passphrase-file', pass]);
    expect(second.code, second.stderr).toBe(0);
    const key2 = (await readKeyring(ring)).current!;
    expect(key2).not.toBe(key1);
    expect(second.stderr).toContain(`current backup key is now ${key2} (was ${key1}, kept to decrypt older backups)`);
    expect((await backup('20260502')).code).toBe(0);
    const listed = await keys(['list', '--keyring', ring, '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const list = resultOf(listed, 'keys') as {
      current: string;
      keys: { fingerprint: string; status: string; secret_file: string | null; passphrase_protected: boolean }[];
    };
    expect(list.current).toBe(key2);
    expect(Object.fromEntries(list.keys.map((k) => [k.fingerprint, k.status]))).toEqual({
      [key1]: 'retired',
      [key2]: 'current',
    });
    expect(list.keys.every((k) => k.secret_file !== null && k.passphrase_protected)).toBe(true);
    expect(listed.stderr).toMatch(
      new RegExp(`\\* current +${key2} .*ed25519/cv25519 .*\\[private key present \\(passphrase\\)\\]`),
    );
    expect(listed.stderr).toMatch(new RegExp(`retired +${key1}`));
    const old = join(encryptedDir, 'arkalia_states_20260501.tar.gz.gpg');
    const oldKey = await readPrivateKeys(join(ring, `${key1}.sec.asc`), { passphrases: ['ring passphrase'] });
    const decrypted = await decryptFile({ source: old, target: join(await tempDir('ark-out-'), 'x'), keys: oldKey });
    expect((await readFile(decrypted.file)).equals(archives.get('arkalia_states_20260501.tar.gz.gpg')!)).toBe(true);

    // Month 3: rotate with --reencrypt: every backup now opens with the new key alone.
    const third = await keys([
      'rotate',
      '--keyring',
      ring,
      '--passphrase-file',
      pass,
      '--reencrypt',
      '--backup-dir',
      backupDir,
      '--json',
    ]);
    expect(third.code, third.stderr).toBe(0);
    const key3 = (await readKeyring(ring)).current!;
    const result = resultOf(third, 'keys') as {
      new_key: { fingerprint: string; previous: string };
      files: { file: string; action: string }[];
    };
    expect(result.new_key).toEqual({ fingerprint: key3, previous: key2 });
    expect(result.files.map((f) => [f.file, f.action])).toEqual([
      ['arkalia_states_20260501.tar.gz.gpg', 'reencrypted'],
      ['arkalia_states_20260502.tar.gz.gpg', 'reencrypted'],
    ]);
    const newKey = await readPrivateKeys(join(ring, `${key3}.sec.asc`), { passphrases: ['ring passphrase'] });
    const newSubkey = (await currentRecipient(ring)).encryptionKeyId;
    for (const [name, plaintext] of archives) {
      const file = join(encryptedDir, name);
      expect((await inspectEncryptedFile(file)).recipients.map((r) => r.keyId)).toEqual([newSubkey]);
      const out = await decryptFile({ source: file, target: join(await tempDir('ark-out-'), 'x'), keys: newKey });
      expect((await readFile(out.file)).equals(plaintext), name).toBe(true);
      await expect(
        decryptFile({ source: file, target: join(await tempDir('ark-out-'), 'x'), keys: oldKey }),
      ).rejects.toMatchObject({ code: 'WRONG_KEY' });
    }
    expect((await run('sha256sum', ['-c', 'SHA256SUMS'], { cwd: encryptedDir })).stdout.trim().split('\n')).toEqual([
      ...[...archives.keys()].map((n) => `${n}: OK`),
      'encrypted_manifest.json: OK',
    ]);
    const manifest = JSON.parse(await readFile(join(encryptedDir, 'encrypted_manifest.json'), 'utf8'));
    expect(
      Object.values(manifest.files).map(
        (r) => (r as { recipients: { fingerprint: string }[] }).recipients[0]!.fingerprint,
      ),
    ).toEqual([key3, key3]);
    expect(Object.values(manifest.files).map((r) => (r as { backup_date?: string }).backup_date)).toEqual([
      '2026-05-01T03:00:00+02:00',
      '2026-05-02T03:00:00+02:00',
    ]);
    expect((await readdir(encryptedDir)).filter((n) => n.startsWith('.'))).toEqual([]);

    // Running the re-encryption again changes nothing; the backup job sees its files as up to date.
    const resume = await keys([
      'rotate',
      '--keyring',
      ring,
      '--passphrase-file',
      pass,
      '--reencrypt',
      '--no-new-key',
      '--backup-dir',
      backupDir,
      '--json',
    ]);
    expect(resume.code, resume.stderr).toBe(0);
    expect(resultOf(resume).files.map((f: { action: string }) => f.action)).toEqual(['unchanged', 'unchanged']);
    expect((await readKeyring(ring)).keys).toHaveLength(3);
  });

  it('--reencrypt never loses an old copy: a wrong old passphrase stops it before any change; a damaged file keeps its old bytes (exit 3), the others move', async () => {
    const ring = join(await tempDir('ark-ring-'), 'keyring');
    const { backupDir, archives } = await fakeBackups(['20260601', '20260602']);
    await rotateKeyring({ dir: ring, passphrase: 'old passphrase' });
    const policy = resolvePolicy({}, 'test');
    for (const date of ['20260601', '20260602']) {
      await encryptBackup({ backupDir, policy, date, recipients: [await currentRecipient(ring)], sink: silentSink });
    }
    const encryptedDir = join(backupDir, 'encrypted');
    const damaged = join(encryptedDir, 'arkalia_states_20260601.tar.gz.gpg');
    await flipByte(damaged, damaged, 200_000);
    const damagedBytes = await readFile(damaged);

    // A wrong old passphrase is caught before a new key is made: nothing changes.
    const typo = await keys([
      'rotate',
      '--keyring',
      ring,
      '--passphrase-file',
      await passFile('new passphrase'),
      '--old-passphrase-file',
      await passFile('old passfrase'),
      '--reencrypt',
      '--backup-dir',
      backupDir,
    ]);
    expect(typo.code, typo.stderr).toBe(2);
    expect(typo.stderr).toMatch(/wrong passphrase for private key .*\.sec\.asc/);
    expectNoStackTrace(typo);
    expect((await readKeyring(ring)).keys).toHaveLength(1);

    const outcome = await keys([
      'rotate',
      '--keyring',
      ring,
      '--passphrase-file',
      await passFile('new passphrase'),
      '--old-passphrase-file',
      await passFile('old passphrase'),
      '--reencrypt',
      '--backup-dir',
      backupDir,
      '--json',
    ]);
    expect(outcome.code, outcome.stderr).toBe(3);
    expectNoStackTrace(outcome);
    const result = resultOf(outcome, 'keys') as {
      files: { file: string; action: string; error?: { code: string } }[];
    };
    expect(result.files).toEqual([
      expect.objectContaining({
        file: 'arkalia_states_20260601.tar.gz.gpg',
        action: 'failed',
        error: expect.objectContaining({ code: 'CIPHERTEXT_CORRUPT' }),
      }),
      expect.objectContaining({ file: 'arkalia_states_20260602.tar.gz.gpg', action: 'reencrypted' }),
    ]);
    expect(outcome.stderr).toMatch(
      /arkalia_states_20260601\.tar\.gz\.gpg was not re-encrypted \(its old copy is untouched\)/,
    );
    expect((await readFile(damaged)).equals(damagedBytes)).toBe(true);
    expect((await readdir(encryptedDir)).filter((n) => n.startsWith('.'))).toEqual([]);
    const current = (await readKeyring(ring)).current!;
    const moved = await decryptFile({
      source: join(encryptedDir, 'arkalia_states_20260602.tar.gz.gpg'),
      target: join(await tempDir('ark-out-'), 'x'),
      keys: await readPrivateKeys(join(ring, `${current}.sec.asc`), { passphrases: ['new passphrase'] }),
    });
    expect((await readFile(moved.file)).equals(archives.get('arkalia_states_20260602.tar.gz.gpg')!)).toBe(true);
    // The new key's recipient is what encrypted-backup --keyring now uses.
    expect((await readRecipientKey(join(ring, `${current}.pub.asc`))).info.fingerprint).toBe(current);
  });
});
