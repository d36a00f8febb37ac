// scripts/disk-recovery.mts, run as an operator runs it after losing the disk: the offsite
// folder is built for real (full-backup -> keys generate -> encrypted-backup -> remote-sync),
// the root and the local backups are gone, and only the offsite folder and a private key
// (ours, or one GnuPG made and exported) are given. Checked byte for byte, and for what a
// failure must never leave behind.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatChecksumFile, parseChecksumFile, sha256Buffer } from '../lib/checksum/index.ts';
import { generateKeyPair, readRecipientKey, writeKeyPair } from '../lib/crypto/index.ts';
import { encryptBackup } from '../lib/pipeline/encrypted-backup.ts';
import { gnupgHome, type GnupgHome } from '../lib/crypto/testing.ts';
import { statesOf } from '../lib/restore-source/testing.ts';
import { silentSink } from '../lib/events.ts';
import { runFullBackup } from '../lib/pipeline/backup.ts';
import { emergencyRestore } from '../lib/pipeline/emergency-restore.ts';
import { resolvePolicy } from '../lib/policy/index.ts';
import { noneController } from '../lib/services/index.ts';
import { copyFixture, tempDir, treeContents } from '../lib/testing.ts';
import { envelopeOf, runScript, type ScriptRun } from './testing.ts';
import { SAMPLE_ROOT } from '../sample/index.ts';

const execFileP = promisify(execFile);
const NEW = '20261125'; // the fixture as it is (two state files with merge-conflict markers)
const OLD = '20261124'; // those two files repaired: every TOML valid
const statesGpg = (date: string) => `arkalia_states_${date}.tar.gz.gpg`;
const PASS = 'gnupg made this key, passphrase in a file';
const INVALID = ['state/global_context.toml', 'state/reflexia_state.toml'];

const run = (name: string, args: string[], env: Record<string, string> = {}) => runScript(name, args, env);

/** Every path under `dir`, hidden ones included (folders end with "/"). */
async function entries(dir: string, base = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(dir, base), { withFileTypes: true }).catch(() => [])) {
    const rel = base ? `${base}/${e.name}` : e.name;
    out.push(e.isDirectory() ? `${rel}/` : rel);
    if (e.isDirectory()) out.push(...(await entries(dir, rel)));
  }
  return out.sort();
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

let work: string;
let offsite: string;
let ours: { publicFile: string; secretFile: string; fingerprint: string };
let gpgKey: { publicFile: string; secretFile: string; fingerprint: string };
let passFile: string;
let gpgHome: GnupgHome;
let olderStates: Record<string, string>;
let newerStates: Record<string, string>;
/** When the newer backup ran (its manifest's backup_date), lost with the disk. */
let newerBackupDate: string;
const timings: Record<string, number> = {};

beforeAll(async () => {
  const started = Date.now();
  work = await tempDir('ark-disk-recovery-');
  const root = await copyFixture();
  const backupDir = join(work, 'lost-backup');
  offsite = join(work, 'offsite');
  await mkdir(offsite);

  // Keys: ours (keys.mts generate, no passphrase) and one GnuPG generated, protected, exported armored.
  const keys = await run('keys', ['generate', '--out-dir', join(work, 'keys')]);
  expect(keys.code, keys.stderr).toBe(0);
  ours = {
    publicFile: join(work, 'keys', 'arkalia-backup.pub.asc'),
    secretFile: join(work, 'keys', 'arkalia-backup.sec.asc'),
    fingerprint: (await readRecipientKey(join(work, 'keys', 'arkalia-backup.pub.asc'))).info.fingerprint,
  };
  gpgHome = await gnupgHome();
  const fpr = await gpgHome.generate('X <x@y>', PASS);
  gpgKey = { publicFile: join(work, 'gpg.pub.asc'), secretFile: join(work, 'gpg.sec.asc'), fingerprint: fpr };
  await writeFile(gpgKey.publicFile, (await gpgHome.gpgOk(['--armor', '--export', fpr])).stdout);
  await writeFile(
    gpgKey.secretFile,
    (await gpgHome.gpgOk(['--armor', '--export-secret-keys', fpr], { passphrase: PASS })).stdout,
    { mode: 0o600 },
  );
  passFile = join(work, 'passphrase');
  await writeFile(passFile, `${PASS}\n`, { mode: 0o600 });
  const recipients = ['--recipient', ours.publicFile, '--recipient', gpgKey.publicFile];

  // The older set, in-process (the lib the scripts run): the two conflicted files repaired.
  for (const path of INVALID) await writeFile(join(root, path), `# repaired\nok = true\n`);
  olderStates = await statesOf(root);
  const policy = resolvePolicy({}, 'test');
  await runFullBackup({ root, backupDir, date: OLD, policy, sink: silentSink, gitCommit: async () => null });
  await encryptBackup({
    backupDir,
    policy,
    date: OLD,
    recipients: [await readRecipientKey(ours.publicFile), await readRecipientKey(gpgKey.publicFile)],
    sink: silentSink,
  });

  // The newer set, the fixture as it is, with the operator scripts.
  for (const path of INVALID) await cp(join(SAMPLE_ROOT, path), join(root, path));
  newerStates = await statesOf(root);
  const common = ['--root', root, '--backup-dir', backupDir];
  const backup = await run('full-backup', [...common, '--date', NEW]);
  expect(backup.code, backup.stderr).toBe(3); // archived the two invalid files as they are, and said so
  newerBackupDate = JSON.parse(
    await readFile(join(backupDir, 'daily', `arkalia_${NEW}`, `backup_manifest_${NEW}.json`), 'utf8'),
  ).backup_date;
  const encrypted = await run('encrypted-backup', [...common, '--date', NEW, ...recipients]);
  expect(encrypted.code, encrypted.stderr).toBe(0);
  const synced = await run('remote-sync', [...common, '--to', offsite]);
  expect(synced.code, synced.stderr).toBe(0);
  expect((await readdir(offsite)).sort()).toEqual([
    'SHA256SUMS',
    statesGpg(OLD),
    statesGpg(NEW),
    'encrypted_manifest.json',
  ]);

  // The disk is lost: the root and the local backups are gone.
  await rm(root, { recursive: true, force: true });
  await rm(backupDir, { recursive: true, force: true });
  expect(olderStates).not.toEqual(newerStates);
  timings.setup = Date.now() - started;
}, 180_000);

afterAll(async () => {
  await gpgHome?.close();
  if (process.env.ARK_TEST_TIMINGS)
    process.stderr.write(`disk-recovery.test timings (ms): ${JSON.stringify(timings)}\n`);
});

/** A fresh, absent root and backup folder on a "new disk", and a private copy of the offsite to damage. */
async function newDisk(): Promise<{ disk: string; root: string; backupDir: string; offsite: string }> {
  const disk = await tempDir('ark-new-disk-');
  const copy = join(disk, 'offsite-copy');
  await cp(offsite, copy, { recursive: true });
  return { disk, root: join(disk, 'srv', 'arkalia-luna-pro'), backupDir: join(disk, 'backup'), offsite: copy };
}

/** No hidden partial, temp or lock left anywhere under the backup folder or beside the root. */
async function expectNothingPartial(d: { disk: string; backupDir: string }): Promise<void> {
  expect((await entries(d.backupDir)).filter((e) => e.split('/').some((part) => part.startsWith('.')))).toEqual([]);
  expect((await entries(join(d.disk, 'srv'))).filter((e) => e.split('/')[0]!.startsWith('.'))).toEqual([]);
}

/** The --json envelope's result (envelopeOf holds the envelope to its contract). */
function json(outcome: ScriptRun): Record<string, any> {
  return envelopeOf(outcome, 'disk-recovery').result ?? {};
}

describe('disk-recovery.mts', { timeout: 120_000 }, () => {
  it('--help explains the flow; a missing --from, key or root is a usage error (exit 2) without a stack trace', async () => {
    const [help, noKey] = await Promise.all([
      run('disk-recovery', ['--help']),
      run('disk-recovery', ['--from', offsite, '--root', join(work, 'nowhere')]),
    ]);
    expect(help.code).toBe(0);
    for (const text of [
      '--from TARGET',
      '--key FILE',
      '--keyring DIR',
      '--passphrase-file',
      'ARK_PASSPHRASE',
      'ARK_OFFSITE',
      '--backup-dir',
      '--services compose|docker|none',
      '--compose FILE',
      '--dry-run',
      'next older one is tried',
    ])
      expect(help.stdout).toContain(text);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/missing --key FILE/);
    expect(noKey.stderr).not.toMatch(/^\s+at /m);
  });

  it('recovers every state file byte for byte from a local offsite folder with only our private key', async () => {
    const d = await newDisk();
    const before = await treeContents(offsite);
    const outcome = await run('disk-recovery', [
      '--from',
      offsite,
      '--key',
      ours.secretFile,
      '--root',
      d.root,
      '--backup-dir',
      d.backupDir,
      '--services',
      'none',
      '--json',
    ]);
    timings.recover = outcome.ms;
    // exit 0, as from disaster-recovery: the two files that were invalid TOML when the backup
    // ran are restored as they were, and named.
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(await statesOf(d.root)).toEqual(newerStates);
    const report = json(outcome);
    expect(report.backup).toMatchObject({
      date: NEW,
      dir: join(d.backupDir, 'daily', `arkalia_${NEW}`),
      recovery_point: newerBackupDate,
      reused: false,
    });
    expect(outcome.stderr).toContain(`recovery point ${newerBackupDate};`);
    expect(report.known_invalid.map((k: { path: string }) => k.path)).toEqual(INVALID);
    expect(report.fetched).toEqual([
      {
        name: statesGpg(NEW),
        bytes: expect.any(Number),
        sha256: sha256Buffer(await readFile(join(offsite, statesGpg(NEW)))),
        attempts: 1,
      },
    ]);
    expect(report.keys.map((k: { fingerprint: string }) => k.fingerprint)).toEqual([ours.fingerprint]);
    expect(report.restored.length).toBe(Object.keys(newerStates).length);
    expect(report.rejected).toEqual([]);
    expect(outcome.stderr).toMatch(
      /state\/global_context\.toml: already invalid TOML in the backup, restored as it was/,
    );

    // The rebuilt backup is a normal one: sha256sum -c passes, and the restore path accepts it.
    const rebuilt = join(d.backupDir, 'daily', `arkalia_${NEW}`);
    expect((await readdir(rebuilt)).sort()).toEqual([`arkalia_states_${NEW}.tar.gz`, `checksums_${NEW}.sha256`]);
    const { stdout } = await execFileP('sha256sum', ['-c', `checksums_${NEW}.sha256`], { cwd: rebuilt });
    expect(stdout).toBe(`arkalia_states_${NEW}.tar.gz: OK\n`);
    const plan = await emergencyRestore({
      root: d.root,
      backupDir: d.backupDir,
      module: 'zeroia',
      policy: resolvePolicy({}, 'test'),
      services: noneController,
      sink: silentSink,
      dryRun: true,
    });
    expect(plan.backup.date).toBe(NEW);
    expect(plan.changes.map((c) => c.action)).toEqual(['unchanged', 'unchanged']);

    await expectNothingPartial(d);
    expect(await treeContents(offsite)).toEqual(before); // the offsite is only read
  });

  it('works the same with a key pair GnuPG generated and exported, protected, its passphrase in a file; the root an empty new mount', async () => {
    const d = await newDisk();
    await mkdir(d.root, { recursive: true }); // the lose-disk drill leaves the folder, empty
    const outcome = await run(
      'disk-recovery',
      [
        '--key',
        gpgKey.secretFile,
        '--passphrase-file',
        passFile,
        '--root',
        d.root,
        '--backup-dir',
        d.backupDir,
        '--services',
        'none',
        '--json',
      ],
      { ARK_OFFSITE: d.offsite },
    );
    timings.gnupg = outcome.ms;
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(await statesOf(d.root)).toEqual(newerStates);
    expect(json(outcome).keys.map((k: { fingerprint: string }) => k.fingerprint)).toEqual([gpgKey.fingerprint]);
    expect(outcome.stderr + outcome.stdout).not.toContain(PASS);
    await expectNothingPartial(d);
  });

  it('a wrong key, a protected key without its passphrase: exit 2 at once, before anything is downloaded or written', async () => {
    const d = await newDisk();
    const stranger = await writeKeyPair(
      join(d.disk, 'keys'),
      'stranger',
      await generateKeyPair({ userId: 'Not the backup key <stranger@example.invalid>' }),
    );
    const common = ['--from', d.offsite, '--root', d.root, '--backup-dir', d.backupDir, '--services', 'none'];
    const started = Date.now();
    const [wrongKey, noPassphrase] = await Promise.all([
      run('disk-recovery', [...common, '--key', stranger.secretFile]),
      run('disk-recovery', [...common, '--key', gpgKey.secretFile]),
    ]);
    timings.refusals = Date.now() - started;
    expect(wrongKey.code, wrongKey.stderr).toBe(2);
    expect(wrongKey.stderr).toMatch(
      new RegExp(
        `${statesGpg(NEW).replace(/\./g, '\\.')} is encrypted to ${ours.fingerprint}.*the key given is none of them`,
      ),
    );
    expect(noPassphrase.code, noPassphrase.stderr).toBe(2);
    expect(noPassphrase.stderr).toMatch(/passphrase-protected: give --passphrase-file FILE or set ARK_PASSPHRASE/);
    for (const o of [wrongKey, noPassphrase]) expect(o.stderr).not.toMatch(/^\s+at /m);
    expect(await exists(d.root)).toBe(false);
    expect(await exists(d.backupDir)).toBe(false); // not even created: no partial backup, no plaintext
    expect(await exists(join(d.disk, 'srv'))).toBe(false);
  });

  it('the newest set missing on the offsite (SHA256SUMS still lists it): falls back to the older set and says why', async () => {
    const d = await newDisk();
    await rm(join(d.offsite, statesGpg(NEW)));
    const outcome = await run('disk-recovery', [
      '--from',
      d.offsite,
      '--key',
      ours.secretFile,
      '--root',
      d.root,
      '--backup-dir',
      d.backupDir,
      '--services',
      'none',
      '--json',
    ]);
    timings.missing = outcome.ms;
    expect(outcome.code, outcome.stderr).toBe(0); // the older set has no invalid TOML
    expect(await statesOf(d.root)).toEqual(olderStates);
    const report = json(outcome);
    expect(report.backup.date).toBe(OLD);
    expect(report.rejected).toEqual([
      {
        date: NEW,
        code: 'OFFSITE_OBJECT_MISSING',
        name: statesGpg(NEW),
        reason: expect.stringContaining('is listed in the offsite SHA256SUMS but is not on the offsite'),
      },
    ]);
    expect(outcome.stderr).toMatch(new RegExp(`offsite set ${NEW} rejected \\(OFFSITE_OBJECT_MISSING\\)`));
    expect(await readdir(join(d.backupDir, 'daily'))).toEqual([`arkalia_${OLD}`]);
    await expectNothingPartial(d);
  });

  it('the newest set corrupt on the offsite (a flipped byte): downloaded twice, rejected by name, the older set restored; no trace of the bad one', async () => {
    const d = await newDisk();
    await flipByte(join(d.offsite, statesGpg(NEW)));
    const outcome = await run('disk-recovery', [
      '--from',
      d.offsite,
      '--key',
      ours.secretFile,
      '--root',
      d.root,
      '--backup-dir',
      d.backupDir,
      '--services',
      'none',
      '--json',
    ]);
    timings.corrupt = outcome.ms;
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(await statesOf(d.root)).toEqual(olderStates);
    expect(json(outcome).rejected).toEqual([
      {
        date: NEW,
        code: 'OFFSITE_COPY_CORRUPT',
        name: statesGpg(NEW),
        reason: expect.stringMatching(/does not match the offsite SHA256SUMS: downloaded 2 times/),
      },
    ]);
    expect(await readdir(join(d.backupDir, 'daily'))).toEqual([`arkalia_${OLD}`]);
    await expectNothingPartial(d);
  });

  it('no set can be restored (the newest damaged before it was vouched for, so it fails to decrypt; the older one gone): exit 3 naming both, nothing left', async () => {
    const d = await newDisk();
    await flipByte(join(d.offsite, statesGpg(NEW)), { revouch: true });
    await rm(join(d.offsite, statesGpg(OLD)));
    const outcome = await run('disk-recovery', [
      '--from',
      d.offsite,
      '--key',
      ours.secretFile,
      '--root',
      d.root,
      '--backup-dir',
      d.backupDir,
      '--services',
      'none',
      '--json',
    ]);
    timings.nothingGood = outcome.ms;
    expect(outcome.code, outcome.stderr).toBe(3);
    expect(envelopeOf(outcome, 'disk-recovery').error).toMatchObject({
      code: 'NO_VALID_OFFSITE_BACKUP',
      rejected: [
        { date: NEW, code: 'CIPHERTEXT_CORRUPT', name: statesGpg(NEW) },
        { date: OLD, code: 'OFFSITE_OBJECT_MISSING', name: statesGpg(OLD) },
      ],
    });
    expect(outcome.stderr).toMatch(
      new RegExp(`${NEW} \\(CIPHERTEXT_CORRUPT\\): ${statesGpg(NEW).replace(/\./g, '\\.')} is damaged`),
    );
    expect(outcome.stderr).toMatch(
      new RegExp(`${OLD} \\(OFFSITE_OBJECT_MISSING\\): ${statesGpg(OLD).replace(/\./g, '\\.')} is listed`),
    );
    expect(outcome.stderr).not.toMatch(/^\s+at /m);
    expect(await exists(d.root)).toBe(false);
    expect(await entries(join(d.backupDir, 'daily'))).toEqual([]); // no daily folder, no partial, no plaintext
    await expectNothingPartial(d);
  });

  it('--dry-run says what it would fetch and restore, and writes nothing', async () => {
    const d = await newDisk();
    const before = await treeContents(d.offsite);
    const outcome = await run('disk-recovery', [
      '--from',
      d.offsite,
      '--key',
      ours.secretFile,
      '--root',
      d.root,
      '--backup-dir',
      d.backupDir,
      '--compose',
      join(SAMPLE_ROOT, 'docker-compose.yml'),
      '--dry-run',
      '--json',
    ]);
    timings.dryRun = outcome.ms;
    expect(outcome.code, outcome.stderr).toBe(0);
    const report = json(outcome);
    expect(report.plan).toMatchObject({
      date: NEW,
      fetch: [{ name: statesGpg(NEW), sha256: sha256Buffer(before.get(statesGpg(NEW))!) }],
      rebuild: join(d.backupDir, 'daily', `arkalia_${NEW}`),
      datasets: ['states', 'configs', 'database'],
    });
    expect(outcome.stderr).toMatch(/\[dry run\] would fetch arkalia_states_20261125\.tar\.gz\.gpg/);
    // The services of --compose FILE, in its depends_on order.
    expect(outcome.stderr).toContain(
      'would then start arkalia-api + reflexia → assistantia + zeroia → sandozia → cognitive-reactor, each group healthy before the next',
    );
    expect(await exists(d.root)).toBe(false);
    expect(await exists(d.backupDir)).toBe(false);
    expect(await exists(join(d.disk, 'srv'))).toBe(false);
    expect(await treeContents(d.offsite)).toEqual(before);
  });
});

/**
 * Flip one bit in the middle of an offsite file. `revouch`: then rewrite its sha256 in the
 * manifest and SHA256SUMS, as if it had rotted before remote-sync verified it: the download
 * matches, and only the decryption can tell.
 */
async function flipByte(file: string, options: { revouch?: boolean } = {}): Promise<void> {
  const bytes = await readFile(file);
  bytes[Math.floor(bytes.length / 2)]! ^= 1;
  await writeFile(file, bytes);
  if (!options.revouch) return;
  const dir = join(file, '..');
  const name = file.slice(dir.length + 1);
  const manifest = JSON.parse(await readFile(join(dir, 'encrypted_manifest.json'), 'utf8'));
  manifest.files[name].sha256 = createHash('sha256').update(bytes).digest('hex');
  const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
  await writeFile(join(dir, 'encrypted_manifest.json'), manifestText);
  const sums = parseChecksumFile(await readFile(join(dir, 'SHA256SUMS'), 'utf8')).map((e) =>
    e.name === name
      ? { ...e, sha256: manifest.files[name].sha256 }
      : e.name === 'encrypted_manifest.json'
        ? { ...e, sha256: sha256Buffer(manifestText) }
        : e,
  );
  await writeFile(join(dir, 'SHA256SUMS'), formatChecksumFile(sums));
}
