import { mkdir, readFile, rename, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { assertChecksumsOk, parseManifest, verifyChecksums } from '../checksum/index.ts';
import { IntegrityError, NotFoundError } from '../errors.ts';
import type { EventSink } from '../events.ts';
import { withBackupLock } from '../lock/index.ts';
import { ProgressReporter } from '../progress.ts';
import { findTwin, unchangedReason } from './encrypted-unchanged.ts';
import { archiveFileNames, encryptedDir, encryptedName, manifestFileName } from '../layout/index.ts';
import type { Policy } from '../policy/index.ts';
import { selectBackup } from '../restore/index.ts';
import {
  type EncryptedRecord,
  encryptFile,
  KeyError,
  readEncryptedManifest,
  readSums,
  type RecipientKey,
  recordEncryptedFile,
  removeStaleTemps,
  type UnlockedKey,
  tempPathFor,
  type VerificationLevel,
} from '../crypto/index.ts';
import { linkOrCopy } from '../state/index.ts';

export interface EncryptBackupOptions {
  backupDir: string;
  policy: Policy;
  /** YYYYMMDD; default: the newest daily backup. */
  date?: string;
  recipients: readonly RecipientKey[];
  signingKey?: UnlockedKey;
  /** Private keys for a full decrypt-verify (see verify-encrypted-file.ts). */
  verifyKeys?: readonly UnlockedKey[];
  dryRun?: boolean;
  /** How long to wait for another run holding the backup folder's lock (lib/lock). */
  lockTimeoutMs?: number;
  sink: EventSink;
  now?: () => Date;
}

export interface EncryptedArchive {
  archive: string;
  source: string;
  file: string;
  /** linked: the same archive (another point's hard link) is already encrypted: its .gpg is linked, not made again. */
  action: 'encrypted' | 'unchanged' | 'linked' | 'would-encrypt';
  sha256: string | null;
  bytes: number | null;
  verification: { level: VerificationLevel; note: string } | null;
}

export interface EncryptBackupReport {
  backup: { dir: string; date: string };
  encryptedDir: string;
  recipients: { fingerprint: string; keyId: string; source: string }[];
  signedBy: string | null;
  files: EncryptedArchive[];
  dryRun: boolean;
  /** The lowest verification level reached by a file written in this run (null: nothing written). */
  verification: VerificationLevel | null;
}

interface Source {
  archive: string;
  file: string;
  path: string;
  sha256: string;
  bytes: number;
  /** The backup manifest's backup_date (null: no manifest), recorded with the .gpg. */
  backupDate: string | null;
}

/**
 * The runbook's ark_encrypted_backup.sh, done right: verify each offsite archive against its
 * checksum file before reading it, encrypt it streaming, verify the encrypted file (and
 * compare the sha256 the runbook computed and never compared), publish it atomically, record
 * it in SHA256SUMS and encrypted_manifest.json. Idempotent: an archive already encrypted,
 * unchanged, to the same recipients is left alone, so the job can run from cron and be retried.
 */
export async function encryptBackup(options: EncryptBackupOptions): Promise<EncryptBackupReport> {
  assertVerifyKeysOpen(options);
  if (options.dryRun) return encryptUnderLock(options);
  // Held for the whole run: a prune must not remove the backup being encrypted, and
  // SHA256SUMS must have one writer. A missing folder is reported as "no backup" first.
  if (
    !(await stat(options.backupDir).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  )
    await selectBackup(options.backupDir, options.date);
  const timeout = options.lockTimeoutMs === undefined ? {} : { timeoutMs: options.lockTimeoutMs };
  return withBackupLock({ backupDir: options.backupDir, sink: options.sink, ...timeout }, () =>
    encryptUnderLock(options),
  );
}

async function encryptUnderLock(options: EncryptBackupOptions): Promise<EncryptBackupReport> {
  const { sink } = options;
  const now = options.now ?? (() => new Date());
  const outDir = encryptedDir(options.backupDir);

  // 1. Which backup, which archives (the policy's offsite ones that this backup holds).
  const backup = await selectBackup(options.backupDir, options.date);
  sink({
    kind: 'backup-selected',
    dir: backup.dir,
    date: backup.date,
    source: options.date ? `--date ${options.date}` : 'newest',
  });
  const wanted = await offsiteArchives(options.policy, backup.dir, backup.date, sink);

  // 2. Never encrypt a corrupt archive: verify against the checksum file (and the manifest) first.
  sink({
    kind: 'step',
    step: 'verify-sources',
    message: `verifying ${wanted.map((w) => w.file).join(', ')} against ${basename(backup.checksumFile)}`,
  });
  const results = await verifyChecksums(backup.checksumFile, { only: wanted.map((w) => w.file) });
  assertChecksumsOk(results, backup.checksumFile);
  const manifest = await backupManifestFacts(join(backup.dir, manifestFileName(backup.date)));
  const sources: Source[] = [];
  for (const w of wanted) {
    const sha256 = results.find((r) => r.name === w.file)!.actual!;
    const listed = manifest.sums.get(w.file);
    if (listed !== undefined && listed !== sha256) {
      throw new IntegrityError(
        'MANIFEST_MISMATCH',
        `${w.file}: the checksum file says sha256 ${sha256} but ${manifestFileName(backup.date)} says ${listed}; refusing to encrypt an archive its own backup disagrees about`,
      );
    }
    sink({ kind: 'checksum-verified', file: w.file, sha256 });
    sources.push({ ...w, sha256, bytes: (await stat(w.path)).size, backupDate: manifest.backupDate });
  }

  const report: EncryptBackupReport = {
    backup: { dir: backup.dir, date: backup.date },
    encryptedDir: outDir,
    recipients: options.recipients.map((r) => ({
      fingerprint: r.info.fingerprint,
      keyId: r.encryptionKeyId,
      source: r.source,
    })),
    signedBy: options.signingKey?.info.fingerprint ?? null,
    files: [],
    dryRun: options.dryRun === true,
    verification: null,
  };

  // 3. Dry run: say what would be done, touch nothing.
  if (options.dryRun) {
    const manifest = await readEncryptedManifest(outDir);
    for (const source of sources) {
      const name = encryptedName(source.file);
      const reason = await unchangedReason(outDir, name, manifest.files[name], source, options);
      report.files.push({
        archive: source.archive,
        source: source.path,
        file: join(outDir, name),
        action: reason ? 'unchanged' : 'would-encrypt',
        sha256: null,
        bytes: null,
        verification: null,
      });
      sink({
        kind: 'dry-run',
        message: reason
          ? `${name}: ${reason}, would be left alone`
          : `would encrypt ${source.file} → ${join(outDir, name)}`,
      });
    }
    return report;
  }

  // 4. Encrypt, verify, publish and record each archive (what a crashed run left goes first).
  await mkdir(outDir, { recursive: true });
  await removeStaleTemps(outDir, sink);
  const progress = new ProgressReporter({ sink, totalBytes: sources.reduce((sum, s) => sum + s.bytes, 0) });
  for (const source of sources) report.files.push(await encryptOne(source, outDir, options, now, progress));
  const levels = report.files.flatMap((f) =>
    f.action === 'encrypted' && f.verification ? [f.verification.level] : [],
  );
  report.verification = levels.includes('structure')
    ? 'structure'
    : levels.includes('session-key')
      ? 'session-key'
      : levels.length > 0
        ? 'full'
        : null;
  return report;
}

async function encryptOne(
  source: Source,
  outDir: string,
  options: EncryptBackupOptions,
  now: () => Date,
  progress: ProgressReporter,
): Promise<EncryptedArchive> {
  const { sink } = options;
  const name = encryptedName(source.file);
  const target = join(outDir, name);
  const recorded = (await readEncryptedManifest(outDir, sink)).files;
  const previous = recorded[name];
  const reason = await unchangedReason(outDir, name, previous, source, options);
  if (reason && previous) {
    // The .gpg is good: make sure SHA256SUMS says so too (a crash may have left it stale).
    if (!(await readSums(outDir, sink)).some((e) => e.name === name && e.sha256 === previous.sha256))
      await recordEncryptedFile(outDir, name, previous, sink);
    sink({ kind: 'encryption-skipped', archive: source.archive, file: name, reason });
    return {
      archive: source.archive,
      source: source.path,
      file: target,
      action: 'unchanged',
      sha256: previous.sha256,
      bytes: previous.bytes,
      verification: null,
    };
  }
  if (
    !previous &&
    (await stat(target).then(
      () => true,
      () => false,
    ))
  ) {
    sink({
      kind: 'warning',
      code: 'UNRECORDED_REPLACED',
      path: target,
      message: `${name} exists but is not in encrypted_manifest.json (made by hand or by the old script?): it is replaced once the new copy verified`,
    });
  }
  // A recovery point that hard-linked an unchanged archive: the same plaintext is already
  // encrypted (to the same recipients, intact): one .gpg per distinct content, linked again.
  const twin = await findTwin(outDir, recorded, name, source, options);
  if (twin) {
    // A temporary name (a *.tmp, cleared if we crash), then one rename: the name appears complete or not at all.
    const temp = tempPathFor(target);
    await linkOrCopy(join(outDir, twin.name), temp);
    await rename(temp, target);
    const record: EncryptedRecord = {
      ...twin.record,
      source: relative(options.backupDir, source.path),
      backup_date: source.backupDate,
    };
    await recordEncryptedFile(outDir, name, record, sink);
    sink({
      kind: 'encryption-skipped',
      archive: source.archive,
      file: name,
      reason: `the same archive is already encrypted as ${twin.name}: hard-linked, not encrypted again`,
    });
    return {
      archive: source.archive,
      source: source.path,
      file: target,
      action: 'linked',
      sha256: record.sha256,
      bytes: record.bytes,
      verification: null,
    };
  }
  sink({ kind: 'step', step: `encrypt-${source.archive}`, message: `encrypting ${source.file} → ${target}` });
  const task = progress.task(`encrypt:${source.archive}`, name, { bytes: source.bytes, files: null });
  const encrypted = await encryptFile({
    onProgress: (bytes) => task.update({ bytes }),
    source: source.path,
    target,
    recipients: options.recipients,
    ...(options.signingKey ? { signingKey: options.signingKey } : {}),
    ...(options.verifyKeys ? { verifyKeys: options.verifyKeys } : {}),
    expectedSha256: source.sha256,
    sink,
  });
  task.done({ bytes: encrypted.plaintextBytes, bytesOut: encrypted.bytes });
  const record: EncryptedRecord = {
    source: relative(options.backupDir, source.path),
    source_sha256: encrypted.plaintextSha256,
    source_bytes: encrypted.plaintextBytes,
    sha256: encrypted.sha256,
    bytes: encrypted.bytes,
    recipients: encrypted.recipients.map((r) => ({ fingerprint: r.fingerprint, key_id: r.keyId })),
    signed_by: encrypted.signedBy,
    verification: encrypted.verification.level,
    encrypted_at: now().toISOString(),
    backup_date: source.backupDate,
  };
  await recordEncryptedFile(outDir, name, record, sink);
  sink({
    kind: 'encrypted-file',
    archive: source.archive,
    file: name,
    bytes: encrypted.bytes,
    sha256: encrypted.sha256,
    recipients: record.recipients.map((r) => r.fingerprint),
    signedBy: encrypted.signedBy,
  });
  sink({
    kind: 'encryption-verified',
    file: name,
    level: encrypted.verification.level,
    note: encrypted.verification.note,
  });
  return {
    archive: source.archive,
    source: source.path,
    file: target,
    action: 'encrypted',
    sha256: encrypted.sha256,
    bytes: encrypted.bytes,
    verification: { level: encrypted.verification.level, note: encrypted.verification.note },
  };
}

/** A verify key that cannot open what we write would silently downgrade the verification. */
function assertVerifyKeysOpen(options: EncryptBackupOptions): void {
  const verifyKeys = options.verifyKeys ?? [];
  const opens = (key: UnlockedKey) => options.recipients.some((r) => key.info.keyIds.includes(r.encryptionKeyId));
  if (verifyKeys.length > 0 && !verifyKeys.some(opens)) {
    const given = [...new Set(verifyKeys.map((k) => `${k.source} (${k.info.fingerprint})`))].join(', ');
    throw new KeyError(
      'WRONG_KEY',
      `verify key ${given} is not the private key of any recipient (${options.recipients.map((r) => r.info.fingerprint).join(', ')}): it could not decrypt what is written`,
    );
  }
}

async function offsiteArchives(
  policy: Policy,
  dir: string,
  date: string,
  sink: EventSink,
): Promise<{ archive: string; file: string; path: string }[]> {
  const offsite = Object.entries(policy.archives).filter(([, spec]) => spec.offsite);
  const found: { archive: string; file: string; path: string }[] = [];
  for (const [archive, spec] of offsite) {
    // Whatever compression the backup was written with (the policy may have changed since): .tar.gz first.
    const candidates = archiveFileNames(spec.prefix, date, spec.compression);
    let match: string | null = null;
    for (const file of candidates)
      if (
        match === null &&
        (await stat(join(dir, file)).then(
          (s) => s.isFile(),
          () => false,
        ))
      )
        match = file;
    if (match !== null) found.push({ archive, file: match, path: join(dir, match) });
    else sink({ kind: 'encryption-skipped', archive, file: candidates[0]!, reason: 'not in this backup' });
  }
  if (found.length === 0) {
    const names = offsite.map(([name]) => name).join(', ') || '(none)';
    throw new NotFoundError(
      'NOTHING_TO_ENCRYPT',
      `backup ${dir} holds none of the archives the policy marks offsite (${names}); set offsite = true under [archives.<name>] for those to encrypt`,
    );
  }
  return found;
}

/** From the backup's manifest: file -> sha256 when it lists archives (runbook manifests do not), and when the backup ran. */
async function backupManifestFacts(path: string): Promise<{ sums: Map<string, string>; backupDate: string | null }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return { sums: new Map(), backupDate: null };
  }
  const manifest = parseManifest(text, basename(path));
  return { sums: new Map((manifest.archives ?? []).map((a) => [a.file, a.sha256])), backupDate: manifest.backup_date };
}
