import type { EncryptedRecord } from '../crypto/index.ts';
import { EXIT } from '../errors.ts';
import type { RemoteEntry } from '../offsite/index.ts';
import { isBackupStamp, parseArchiveFileName } from '../layout/index.ts';

// Which backup sets an offsite folder holds, and what is wrong with each one that can be
// known without downloading it. Pure. A set is one date: the .gpg of each policy archive
// (arkalia_states_<DATE>.tar.gz.gpg ...). A file is usable only when the remote SHA256SUMS
// vouches for it, it is actually there, and encrypted_manifest.json (itself vouched for) says
// which archive it decrypts to and that archive's sha256, agreeing with SHA256SUMS.

export interface OffsiteFile {
  /** Name on the offsite: arkalia_states_20261125.tar.gz.gpg */
  name: string;
  /** Policy archive: "states". */
  archive: string;
  /** What it decrypts to, as the daily backup names it: arkalia_states_20261125.tar.gz */
  archiveFile: string;
  required: boolean;
  /** sha256 of the encrypted file (remote SHA256SUMS). */
  sha256: string;
  /** Size of the encrypted file (manifest). */
  bytes: number;
  /** sha256 and size of the archive it must decrypt to (manifest). */
  sourceSha256: string;
  sourceBytes: number;
  recipients: { fingerprint: string; key_id: string }[];
  encryptedAt: string;
  /** When the backup ran (manifest backup_date): the exact recovery point; null when not recorded. */
  backupDate: string | null;
}

export interface SetProblem {
  code: string;
  /** The offsite file concerned. */
  name: string;
  reason: string;
  exitCode: 1 | 3;
}

export interface OffsiteSet {
  date: string;
  /** Usable files, required ones first. */
  files: OffsiteFile[];
  /** Why the set cannot be used (a required file's problem), or null. */
  problem: SetProblem | null;
  /** Optional files left out, and why. */
  dropped: SetProblem[];
}

export interface PlanOffsiteSetsInput {
  listing: readonly RemoteEntry[];
  sums: ReadonlyMap<string, string>;
  manifest: Readonly<Record<string, EncryptedRecord>>;
  /** The policy's archives (name -> file prefix). */
  archives: Readonly<Record<string, { prefix: string }>>;
  /** Archives a set must hold to be restorable (the restore scope's required ones). */
  required: readonly string[];
}

/** Every set the offsite names (in its listing or its SHA256SUMS), newest first. */
export function planOffsiteSets(input: PlanOffsiteSetsInput): OffsiteSet[] {
  const present = new Set(input.listing.map((e) => e.name));
  const byDate = new Map<string, Map<string, { name: string; archiveFile: string }>>();
  for (const name of new Set([...present, ...input.sums.keys()])) {
    const found = classify(name, input.archives);
    if (!found) continue;
    const archives = byDate.get(found.date) ?? new Map<string, { name: string; archiveFile: string }>();
    archives.set(found.archive, { name, archiveFile: found.archiveFile });
    byDate.set(found.date, archives);
  }

  const sets: OffsiteSet[] = [];
  for (const [date, archives] of byDate) {
    const files: OffsiteFile[] = [];
    const dropped: SetProblem[] = [];
    let problem: SetProblem | null = null;
    for (const archive of input.required) {
      if (archives.has(archive)) continue;
      const prefix = input.archives[archive]?.prefix ?? archive;
      problem ??= {
        code: 'OFFSITE_ARCHIVE_MISSING',
        name: `${prefix}_${date}.tar.gz.gpg`,
        reason: `the offsite holds no ${prefix}_${date}.*.gpg (the ${archive} archive) for ${date}`,
        exitCode: EXIT.failed,
      };
    }
    const ordered = [...archives].sort(
      ([a], [b]) => Number(input.required.includes(b)) - Number(input.required.includes(a)) || a.localeCompare(b),
    );
    for (const [archive, { name, archiveFile }] of ordered) {
      const required = input.required.includes(archive);
      const found = checkFile(name, input, present);
      if ('code' in found) {
        if (required) problem ??= found;
        else dropped.push(found);
        continue;
      }
      files.push({ name, archive, archiveFile, required, ...found });
    }
    sets.push({ date, files, problem, dropped });
  }
  return sets.sort((a, b) => b.date.localeCompare(a.date));
}

function checkFile(
  name: string,
  input: PlanOffsiteSetsInput,
  present: ReadonlySet<string>,
): SetProblem | Omit<OffsiteFile, 'name' | 'archive' | 'archiveFile' | 'required'> {
  const vouched = input.sums.get(name);
  const record = input.manifest[name];
  if (vouched === undefined) {
    return {
      code: 'OFFSITE_NOT_VOUCHED',
      name,
      reason: `${name} is on the offsite but its SHA256SUMS does not list it: nothing vouches for that copy (an upload that did not verify?)`,
      exitCode: EXIT.integrity,
    };
  }
  if (!present.has(name)) {
    return {
      code: 'OFFSITE_OBJECT_MISSING',
      name,
      reason: `${name} is listed in the offsite SHA256SUMS but is not on the offsite (deleted, or never uploaded completely)`,
      exitCode: EXIT.failed,
    };
  }
  if (record === undefined) {
    return {
      code: 'OFFSITE_MANIFEST_NO_ENTRY',
      name,
      reason: `encrypted_manifest.json does not describe ${name}: the archive it decrypts to could not be verified`,
      exitCode: EXIT.integrity,
    };
  }
  if (record.sha256 !== vouched) {
    return {
      code: 'OFFSITE_SUMS_DISAGREE',
      name,
      reason: `${name}: SHA256SUMS says sha256 ${vouched}, encrypted_manifest.json says ${record.sha256}; neither is trusted over the other`,
      exitCode: EXIT.integrity,
    };
  }
  return {
    sha256: vouched,
    bytes: record.bytes,
    sourceSha256: record.source_sha256,
    sourceBytes: record.source_bytes,
    recipients: record.recipients,
    encryptedAt: record.encrypted_at,
    backupDate: record.backup_date ?? null,
  };
}

/** <prefix>_<STAMP>.tar[.gz|.zst].gpg -> the archive, its stamp (YYYYMMDD or a point's YYYYMMDD_HHMM) and its plaintext name. */
export function classify(
  name: string,
  archives: PlanOffsiteSetsInput['archives'],
): { archive: string; date: string; archiveFile: string } | null {
  if (!name.endsWith('.gpg')) return null;
  const archiveFile = name.slice(0, -'.gpg'.length);
  for (const [archive, spec] of Object.entries(archives)) {
    const parsed = parseArchiveFileName(spec.prefix, archiveFile);
    if (parsed && isBackupStamp(parsed.date)) return { archive, date: parsed.date, archiveFile };
  }
  return null;
}
