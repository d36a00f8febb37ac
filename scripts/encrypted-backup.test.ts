// scripts/encrypted-backup.mts, run as an operator runs it: a subprocess, its exit code, its
// output, the files it leaves in <backup-dir>/encrypted/, checked with gpg and sha256sum.
import { execFile } from 'node:child_process';
import { readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptFile, readPrivateKeys } from '../lib/crypto/index.ts';
import { flipByte, gnupgHome, ourKeyPair, type GnupgHome } from '../lib/crypto/testing.ts';
import { silentSink } from '../lib/events.ts';
import { runFullBackup } from '../lib/pipeline/backup.ts';
import { DEFAULT_POLICY, resolvePolicy } from '../lib/policy/index.ts';
import { copyFixture, tempDir } from '../lib/testing.ts';
import { envelopeOf, resultOf, runScript, type ScriptRun } from './testing.ts';

const run = promisify(execFile);
const PASS = 'sign key passphrase';

const encrypted = (args: string[], env?: Record<string, string>) => runScript('encrypted-backup', args, env);

function expectNoStackTrace(outcome: ScriptRun): void {
  expect(outcome.stderr).not.toMatch(/^\s+at /m);
  expect(outcome.stdout).not.toMatch(/^\s+at /m);
}

let root: string;
let keys: string;
let owner: Awaited<ReturnType<typeof ourKeyPair>>; // passphrase-protected: signs, and is a recipient
let escrow: Awaited<ReturnType<typeof ourKeyPair>>; // unprotected
let stranger: Awaited<ReturnType<typeof ourKeyPair>>;
let passFile: string;
let gpgHome: GnupgHome;

beforeAll(async () => {
  root = await copyFixture();
  keys = await tempDir('ark-keys-');
  [owner, escrow, stranger] = await Promise.all([
    ourKeyPair(keys, 'owner', { passphrase: PASS }),
    ourKeyPair(keys, 'escrow'),
    ourKeyPair(keys, 'stranger'),
  ]);
  passFile = join(keys, 'pass');
  await writeFile(passFile, `${PASS}\n`, { mode: 0o600 });
  gpgHome = await gnupgHome();
  await gpgHome.gpgOk(['--import', owner.secretFile], { passphrase: PASS });
});

afterAll(async () => {
  await gpgHome?.close();
});

/** A real daily backup of the fixture (the lib pipeline, as full-backup.mts runs it). */
async function backupOf(dates: string[], policy = DEFAULT_POLICY): Promise<string> {
  const backupDir = await tempDir('ark-backup-');
  for (const date of dates)
    await runFullBackup({
      root,
      backupDir,
      date,
      policy: resolvePolicy(policy === DEFAULT_POLICY ? {} : policy, 'test'),
      sink: silentSink,
      gitCommit: async () => null,
    });
  return backupDir;
}

const statesOf = (backupDir: string, date: string) =>
  join(backupDir, 'daily', `arkalia_${date}`, `arkalia_states_${date}.tar.gz`);
const gpgOf = (backupDir: string, date: string) => join(backupDir, 'encrypted', `arkalia_states_${date}.tar.gz.gpg`);

describe.concurrent('encrypted-backup.mts: command line', { timeout: 90_000 }, () => {
  it('--help prints usage on stdout and exits 0', async () => {
    const outcome = await encrypted(['--help']);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stdout).toMatch(/^Usage: encrypted-backup\.mts/);
    for (const flag of [
      '--recipient FILE',
      'ARK_RECIPIENTS',
      '--sign-key FILE',
      '--passphrase-file FILE',
      'ARK_PASSPHRASE',
      '--verify-key FILE',
      '--date YYYYMMDD',
      '--dry-run',
      '--root DIR',
      '--backup-dir DIR',
      '--policy FILE',
      '--json',
      '--compress-algo none',
    ]) {
      expect(outcome.stdout).toContain(flag);
    }
    expect(outcome.stderr).toBe('');
  });

  it('bad input: a clear message, exit 2, no stack trace, nothing encrypted', async () => {
    const backupDir = await backupOf(['20260301']);
    const missingPass = join(keys, 'no-such-pass');
    const common = ['--root', root, '--backup-dir', backupDir];
    // Key-file mistakes are covered one by one in lib/crypto/crypto-errors.test.ts; here, that the script wires each flag to them.
    const cases: { args: string[]; env?: Record<string, string>; message: RegExp; code: string }[] = [
      { args: [...common], message: /no recipient: give --recipient FILE/, code: 'USAGE' },
      {
        args: [...common, '--json', '--recipient', join(keys, 'missing.pub.asc')],
        message: /cannot read recipient key .*missing\.pub\.asc: ENOENT/,
        code: 'KEY_UNREADABLE',
      },
      {
        args: [...common, '--recipient', owner.secretFile],
        message: /recipient key .*owner\.sec\.asc is a PRIVATE key/,
        code: 'PRIVATE_KEY_AS_RECIPIENT',
      },
      {
        args: [...common, '--recipient', owner.publicFile, '--sign-key', owner.publicFile],
        message: /owner\.pub\.asc is a PUBLIC key .*signing needs the private key/,
        code: 'PUBLIC_KEY_GIVEN',
      },
      {
        args: [...common, '--recipient', owner.publicFile, '--verify-key', escrow.publicFile],
        message: /escrow\.pub\.asc is a PUBLIC key .*decrypting needs the private key/,
        code: 'PUBLIC_KEY_GIVEN',
      },
      {
        args: [...common, '--json', '--recipient', owner.publicFile, '--verify-key', stranger.secretFile],
        message: /verify key .*stranger\.sec\.asc .* is not the private key of any recipient/,
        code: 'WRONG_KEY',
      },
      {
        args: [...common, '--recipient', owner.publicFile, '--sign-key', owner.secretFile],
        message: /owner\.sec\.asc .* is passphrase-protected: give --passphrase-file FILE or set ARK_PASSPHRASE/,
        code: 'PASSPHRASE_REQUIRED',
      },
      {
        args: [...common, '--json', '--recipient', owner.publicFile, '--sign-key', owner.secretFile],
        env: { ARK_PASSPHRASE: 'nope' },
        message: /wrong passphrase for private key .*owner\.sec\.asc/,
        code: 'WRONG_PASSPHRASE',
      },
      {
        args: [
          ...common,
          '--recipient',
          owner.publicFile,
          '--sign-key',
          owner.secretFile,
          '--passphrase-file',
          missingPass,
        ],
        message: /cannot read the passphrase file given to --passphrase-file .*no-such-pass.*ENOENT/,
        code: 'PASSPHRASE_UNREADABLE',
      },
      {
        args: [...common, '--recipient', owner.publicFile, '--passphrase', PASS],
        message: /Unknown option '--passphrase'/,
        code: 'USAGE',
      },
    ];
    const outcomes = await Promise.all(cases.map((c) => encrypted(c.args, c.env)));
    outcomes.forEach((outcome, i) => {
      const { args, message, code } = cases[i]!;
      const label = args.slice(common.length).join(' ');
      expect(outcome.code, `${label}\n${outcome.stderr}`).toBe(2);
      expect(outcome.stderr, label).toMatch(message);
      expect(outcome.stderr, label).toMatch(/^✗ /m);
      expect(outcome.stderr, label).not.toContain(PASS); // a passphrase is never echoed
      expectNoStackTrace(outcome);
      if (args.includes('--json'))
        expect(envelopeOf(outcome, 'encrypted-backup'), label).toMatchObject({
          ok: false,
          exit_code: 2,
          error: { code },
        });
    });
    expect(await readdir(backupDir)).toEqual(['.arkalia-dr-verified.json', 'daily']); // no encrypted/ (the record is full-backup's)
  });

  it('no backup for --date: exit 1 naming what exists', async () => {
    const backupDir = await backupOf(['20260302']);
    const other = await encrypted([
      '--root',
      root,
      '--backup-dir',
      backupDir,
      '--recipient',
      owner.publicFile,
      '--date',
      '20260303',
    ]);
    expect(other.code, other.stderr).toBe(1);
    expect(other.stderr).toMatch(/no backup for 20260303 .*available: 20260302/);
    expectNoStackTrace(other);
  });
});

describe.concurrent('encrypted-backup.mts: what it writes', { timeout: 90_000 }, () => {
  it("encrypts the newest backup's states archive; gpg decrypts it byte-identical; SHA256SUMS verifies; a re-run changes nothing", async () => {
    const backupDir = await backupOf(['20260310', '20260311']);
    const first = await encrypted([
      '--root',
      root,
      '--backup-dir',
      backupDir,
      '--recipient',
      owner.publicFile,
      '--json',
    ]);
    expect(first.code, first.stderr).toBe(0);
    expectNoStackTrace(first);
    expect(envelopeOf(first, 'encrypted-backup')).toMatchObject({ ok: true, policy: 'built-in' });
    const result = resultOf(first) as {
      backup: { date: string };
      verification: string;
      files: { action: string; file: string }[];
    };
    expect(result).toMatchObject({
      backup: { date: '20260311' },
      verification: 'session-key',
      files: [{ action: 'encrypted', file: gpgOf(backupDir, '20260311') }],
    });
    // Honest about what was verified without a private key.
    expect(first.stderr).toMatch(/verified arkalia_states_20260311\.tar\.gz\.gpg \(session-key\)/);
    expect(first.stderr).toMatch(/a full decrypt-verify needs a recipient private key \(--verify-key FILE\)/);

    const encryptedDir = join(backupDir, 'encrypted');
    expect((await readdir(encryptedDir)).sort()).toEqual([
      'SHA256SUMS',
      'arkalia_states_20260311.tar.gz.gpg',
      'encrypted_manifest.json',
    ]);
    // SHA256SUMS vouches for the .gpg and the manifest (which travels offsite with it).
    expect((await run('sha256sum', ['-c', 'SHA256SUMS'], { cwd: encryptedDir })).stdout).toBe(
      'arkalia_states_20260311.tar.gz.gpg: OK\nencrypted_manifest.json: OK\n',
    );
    const out = join(await tempDir('ark-gpg-out-'), 'states.tar.gz');
    await gpgHome.gpgOk(['--output', out, '--decrypt', gpgOf(backupDir, '20260311')], { passphrase: PASS });
    expect((await readFile(out)).equals(await readFile(statesOf(backupDir, '20260311')))).toBe(true);
    const manifest = JSON.parse(await readFile(join(encryptedDir, 'encrypted_manifest.json'), 'utf8'));
    const backupManifest = JSON.parse(
      await readFile(join(backupDir, 'daily', 'arkalia_20260311', 'backup_manifest_20260311.json'), 'utf8'),
    );
    expect(manifest.files['arkalia_states_20260311.tar.gz.gpg']).toMatchObject({
      source: 'daily/arkalia_20260311/arkalia_states_20260311.tar.gz',
      backup_date: backupManifest.backup_date, // when the backup ran travels offsite: disk-recovery's recovery point
      recipients: [{ fingerprint: owner.info.fingerprint }],
      signed_by: null,
      verification: 'session-key',
    });

    const before = await stat(gpgOf(backupDir, '20260311'));
    const again = await encrypted([
      '--root',
      root,
      '--backup-dir',
      backupDir,
      '--recipient',
      owner.publicFile,
      '--json',
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(resultOf(again).files).toEqual([expect.objectContaining({ action: 'unchanged' })]);
    expect(again.stderr).toMatch(/already encrypted, unchanged, to the same recipients/);
    const after = await stat(gpgOf(backupDir, '20260311'));
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);

    // --date picks the older backup; both are now listed in SHA256SUMS.
    const older = await encrypted([
      '--root',
      root,
      '--backup-dir',
      backupDir,
      '--recipient',
      owner.publicFile,
      '--date',
      '20260310',
    ]);
    expect(older.code, older.stderr).toBe(0);
    expect((await run('sha256sum', ['-c', 'SHA256SUMS'], { cwd: encryptedDir })).stdout.trim().split('\n')).toEqual([
      'arkalia_states_20260310.tar.gz.gpg: OK',
      'arkalia_states_20260311.tar.gz.gpg: OK',
      'encrypted_manifest.json: OK',
    ]);

    // The two backups hold the same states archive (hard-linked), so 20260310's .gpg is a link
    // to 20260311's: encrypted once. A copy damaged on disk (written anew under that one name)
    // is noticed and replaced; what a crashed run left is removed.
    expect(older.stderr).toMatch(/already encrypted as arkalia_states_20260311\.tar\.gz\.gpg: hard-linked/);
    const file = gpgOf(backupDir, '20260310');
    await flipByte(file, `${file}.damaged`, 500);
    await rename(`${file}.damaged`, file);
    const crashed = join(encryptedDir, '.arkalia_states_20260310.tar.gz.gpg.999999999-0badc0de.tmp');
    await writeFile(crashed, 'half-written');
    const repaired = await encrypted([
      '--root',
      root,
      '--backup-dir',
      backupDir,
      '--recipient',
      owner.publicFile,
      '--date',
      '20260310',
      '--json',
    ]);
    expect(repaired.code, repaired.stderr).toBe(0);
    // Repaired from the intact twin (20260311's .gpg of the same archive): linked again, not re-encrypted.
    expect(resultOf(repaired).files).toEqual([expect.objectContaining({ action: 'linked' })]);
    expect(repaired.stderr).toContain('removed .arkalia_states_20260310.tar.gz.gpg.999999999-0badc0de.tmp');
    expect((await readdir(encryptedDir)).sort()).toEqual([
      'SHA256SUMS',
      'arkalia_states_20260310.tar.gz.gpg',
      'arkalia_states_20260311.tar.gz.gpg',
      'encrypted_manifest.json',
    ]);
    expect((await run('sha256sum', ['-c', 'SHA256SUMS'], { cwd: encryptedDir })).stdout).toMatch(
      /^arkalia_states_20260310\.tar\.gz\.gpg: OK\n/,
    );
    await gpgHome.gpgOk(['--output', out, '--decrypt', file], { passphrase: PASS });
    expect((await readFile(out)).equals(await readFile(statesOf(backupDir, '20260310')))).toBe(true);
  });

  it('two recipients from ARK_RECIPIENTS, signed (passphrase from --passphrase-file): each recipient alone decrypts; verified in full; gpg checks the signature', async () => {
    const backupDir = await backupOf(['20260320']);
    const outcome = await encrypted(
      [
        '--root',
        root,
        '--backup-dir',
        backupDir,
        '--sign-key',
        owner.secretFile,
        '--passphrase-file',
        passFile,
        '--json',
      ],
      {
        ARK_RECIPIENTS: [owner.publicFile, escrow.publicFile].join(delimiter),
      },
    );
    expect(outcome.code, outcome.stderr).toBe(0);
    const result = resultOf(outcome, 'encrypted-backup');
    expect(result).toMatchObject({ verification: 'full', signed_by: owner.info.fingerprint });
    expect(result.recipients.map((r: { fingerprint: string }) => r.fingerprint).sort()).toEqual(
      [owner.info.fingerprint, escrow.info.fingerprint].sort(),
    );
    const file = gpgOf(backupDir, '20260320');
    const archive = await readFile(statesOf(backupDir, '20260320'));
    for (const [key, passphrases] of [
      [owner, [PASS]],
      [escrow, []],
    ] as const) {
      const out = join(await tempDir('ark-out-'), 'states.tar.gz');
      await decryptFile({
        source: file,
        target: out,
        keys: await readPrivateKeys(key.secretFile, { passphrases }),
        verificationKeys: [(await readPrivateKeys(owner.secretFile, { passphrases: [PASS] }))[0]!.key.toPublic()],
      });
      expect((await readFile(out)).equals(archive)).toBe(true);
    }
    const status = await gpgHome.gpgOk(
      ['--status-fd', '2', '--output', join(await tempDir('ark-out-'), 'x'), '--decrypt', file],
      { passphrase: PASS },
    );
    expect(status.stderr).toContain(`[GNUPG:] VALIDSIG ${owner.info.fingerprint}`);

    // The same archive to other recipients is not "unchanged": it is encrypted again, atomically.
    const narrowed = await encrypted([
      '--root',
      root,
      '--backup-dir',
      backupDir,
      '--recipient',
      escrow.publicFile,
      '--verify-key',
      escrow.secretFile,
      '--json',
    ]);
    expect(narrowed.code, narrowed.stderr).toBe(0);
    expect(resultOf(narrowed).files).toEqual([
      expect.objectContaining({ action: 'encrypted', verification: expect.objectContaining({ level: 'full' }) }),
    ]);
    await expect(
      decryptFile({
        source: file,
        target: join(await tempDir('ark-out-'), 'x'),
        keys: await readPrivateKeys(owner.secretFile, { passphrases: [PASS] }),
      }),
    ).rejects.toMatchObject({ code: 'WRONG_KEY' });
  });

  it('a corrupt source archive is refused before encryption: exit 3, no .gpg', async () => {
    const backupDir = await backupOf(['20260401']);
    const archive = statesOf(backupDir, '20260401');
    await flipByte(archive, archive, 100);
    const outcome = await encrypted([
      '--root',
      root,
      '--backup-dir',
      backupDir,
      '--recipient',
      owner.publicFile,
      '--json',
    ]);
    expect(outcome.code, outcome.stderr).toBe(3);
    expectNoStackTrace(outcome);
    expect(outcome.stderr).toMatch(
      /checksum verification failed .*\n\s+arkalia_states_20260401\.tar\.gz: sha256 [0-9a-f]{64} != expected/,
    );
    expect(envelopeOf(outcome, 'encrypted-backup')).toMatchObject({
      ok: false,
      exit_code: 3,
      error: { code: 'CHECKSUM_MISMATCH' },
    });
    expect(await readdir(join(backupDir, 'encrypted')).catch(() => [])).toEqual([]);
  });

  it('--dry-run verifies and reports, and writes nothing; the policy decides which archives go offsite', async () => {
    const backupDir = await backupOf(['20260405']);
    const dry = await encrypted([
      '--root',
      root,
      '--backup-dir',
      backupDir,
      '--recipient',
      owner.publicFile,
      '--dry-run',
      '--json',
    ]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(resultOf(dry)).toMatchObject({
      dry_run: true,
      files: [{ action: 'would-encrypt', archive: 'states' }],
    });
    expect(dry.stderr).toMatch(/\[dry run\] would encrypt arkalia_states_20260405\.tar\.gz/);
    expect(await readdir(backupDir)).toEqual(['.arkalia-dr-verified.json', 'daily']);

    const policy = join(await tempDir('ark-policy-'), 'offsite.toml');
    await writeFile(policy, '[archives.infra]\noffsite = true\n');
    const both = await encrypted([
      '--root',
      root,
      '--backup-dir',
      backupDir,
      '--policy',
      policy,
      '--recipient',
      owner.publicFile,
      '--json',
    ]);
    expect(both.code, both.stderr).toBe(0);
    expect(resultOf(both).files.map((f: { archive: string }) => f.archive)).toEqual(['states', 'infra']);
    expect((await readdir(join(backupDir, 'encrypted'))).filter((n) => n.endsWith('.gpg')).sort()).toEqual([
      'arkalia_infra_20260405.tar.gz.gpg',
      'arkalia_states_20260405.tar.gz.gpg',
    ]);
  });
});
