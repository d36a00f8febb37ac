import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { formatChecksumFile, parseChecksumFile, sha256Buffer, type ChecksumEntry } from '../checksum/index.ts';
import type { EventSink } from '../events.ts';
import { writeFileAtomic } from '../state/index.ts';
import { TEMP_PATTERN } from './temp-file.ts';
import { ENCRYPTED_MANIFEST_FILE, SUMS_FILE } from '../layout/index.ts';
import { processExists } from '../lock/index.ts';

// <backup-dir>/encrypted/, as the runbook laid it out, plus two index files:
//   <archive>.gpg              binary OpenPGP, one per offsite archive (gpg --decrypt reads it)
//   SHA256SUMS                 `sha256sum -c` of the .gpg files: offsite copies verify without keys
//   encrypted_manifest.json    per .gpg: its source archive and that archive's sha256, recipients,
//                              signer, verification level, when the backup ran. What makes
//                              re-runs idempotent and what an auditor reads. Holds no secret.
//   .<name>.<pid>-<rand>.tmp   in-progress files (the runbook's rsync excludes *.tmp)
// SHA256SUMS vouches for the manifest too, so that it travels offsite with the .gpg files: after
// a disk loss it still says which sha256 each decrypted archive must have.
// Writers hold the backup folder's lock (lib/lock), so SHA256SUMS has one writer at a time.

export const ENCRYPTED_MANIFEST_FORMAT = 'arkalia-dr-encrypted/1';

export const encryptedRecordSchema = z.object({
  /** The archive, relative to the backup folder: daily/arkalia_<DATE>/<file> (null if unknown). */
  source: z.string().nullable(),
  source_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  source_bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
  recipients: z.array(z.object({ fingerprint: z.string(), key_id: z.string() })),
  signed_by: z.string().nullable(),
  verification: z.enum(['full', 'session-key', 'structure']),
  encrypted_at: z.string(),
  /**
   * When the backup ran (its backup_manifest_<DATE>.json's backup_date): the recovery point a
   * disk recovery reports, since the backup's own manifest does not go offsite. null: the
   * backup has no manifest (written by the runbook's bash); absent: recorded before this field.
   */
  backup_date: z.string().nullable().optional(),
});

export const encryptedManifestSchema = z.object({
  format: z.literal(ENCRYPTED_MANIFEST_FORMAT),
  files: z.record(z.string(), encryptedRecordSchema),
});

export type EncryptedRecord = z.infer<typeof encryptedRecordSchema>;
export type EncryptedManifest = z.infer<typeof encryptedManifestSchema>;

/** The manifest, or an empty one when absent. A damaged one is reported and treated as empty: the files are then simply encrypted again. */
export async function readEncryptedManifest(dir: string, sink?: EventSink): Promise<EncryptedManifest> {
  const empty: EncryptedManifest = { format: ENCRYPTED_MANIFEST_FORMAT, files: {} };
  let text: string;
  try {
    text = await readFile(join(dir, ENCRYPTED_MANIFEST_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return empty;
    throw error;
  }
  try {
    return encryptedManifestSchema.parse(JSON.parse(text));
  } catch {
    sink?.({
      kind: 'warning',
      code: 'ENCRYPTED_MANIFEST_INVALID',
      path: join(dir, ENCRYPTED_MANIFEST_FILE),
      message: `${ENCRYPTED_MANIFEST_FILE} is not valid; it will be rewritten (files it described are encrypted again)`,
    });
    return empty;
  }
}

/** Record one .gpg: the manifest entry, then SHA256SUMS (the .gpg and the manifest), each replaced atomically. */
export async function recordEncryptedFile(
  dir: string,
  name: string,
  record: EncryptedRecord,
  sink?: EventSink,
): Promise<void> {
  const manifest = await readEncryptedManifest(dir, sink);
  manifest.files[name] = record;
  const sorted = Object.fromEntries(Object.entries(manifest.files).sort(([a], [b]) => a.localeCompare(b)));
  const text = `${JSON.stringify({ format: ENCRYPTED_MANIFEST_FORMAT, files: sorted }, null, 2)}\n`;
  await writeFileAtomic(join(dir, ENCRYPTED_MANIFEST_FILE), text);
  await upsertChecksums(
    dir,
    [
      { name, sha256: record.sha256 },
      { name: ENCRYPTED_MANIFEST_FILE, sha256: sha256Buffer(text) },
    ],
    sink,
  );
}

export async function readSums(dir: string, sink?: EventSink): Promise<ChecksumEntry[]> {
  let text: string;
  try {
    text = await readFile(join(dir, SUMS_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  try {
    return parseChecksumFile(text, SUMS_FILE);
  } catch (error) {
    sink?.({
      kind: 'warning',
      code: 'SUMS_INVALID',
      path: join(dir, SUMS_FILE),
      message: `${(error as Error).message}; rewriting it`,
    });
    return [];
  }
}

async function upsertChecksums(dir: string, updates: readonly ChecksumEntry[], sink?: EventSink): Promise<void> {
  const entries = (await readSums(dir, sink)).filter((e) => !updates.some((u) => u.name === e.name));
  entries.push(...updates);
  entries.sort((a, b) => a.name.localeCompare(b.name));
  await writeFileAtomic(join(dir, SUMS_FILE), formatChecksumFile(entries));
}

/** Remove what crashed writers left (temp files of dead processes). Call holding the backup folder's lock. */
export async function removeStaleTemps(dir: string, sink?: EventSink): Promise<void> {
  for (const name of (await readdir(dir).catch(() => [] as string[])).sort()) {
    const match = TEMP_PATTERN.exec(name);
    if (!match) continue;
    const pid = Number(match[2]);
    if (pid !== process.pid && processExists(pid)) continue;
    await rm(join(dir, name), { force: true });
    sink?.({
      kind: 'warning',
      code: 'STALE_TEMP_REMOVED',
      path: join(dir, name),
      message: `removed ${name}, left by an encryption that did not finish`,
    });
  }
}
