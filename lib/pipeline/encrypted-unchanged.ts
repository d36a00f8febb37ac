import { join } from 'node:path';
import { sha256File } from '../checksum/index.ts';
import type { EncryptedRecord } from '../crypto/index.ts';
import type { EncryptBackupOptions } from './encrypted-backup.ts';

// When encrypted-backup need not encrypt again: the .gpg of this archive is there and good
// (same plaintext, recipients and signer, its own sha256 intact), or another recovery point's
// .gpg of the very same plaintext is, and is linked instead.

/** The archive to encrypt, as verified against its backup's checksum file. */
export interface EncryptSource {
  sha256: string;
}

/** Another recorded .gpg of exactly this plaintext, to the same recipients and signer, still intact. */
export async function findTwin(
  outDir: string,
  recorded: Record<string, EncryptedRecord>,
  name: string,
  source: EncryptSource,
  options: EncryptBackupOptions,
): Promise<{ name: string; record: EncryptedRecord } | null> {
  for (const [other, record] of Object.entries(recorded)) {
    if (other === name || record.source_sha256 !== source.sha256) continue;
    if (await unchangedReason(outDir, other, record, source, options)) return { name: other, record };
  }
  return null;
}

/** Why the existing .gpg can stay (same archive, same recipients and signer, file intact), or null. */
export async function unchangedReason(
  outDir: string,
  name: string,
  record: EncryptedRecord | undefined,
  source: EncryptSource,
  options: EncryptBackupOptions,
): Promise<string | null> {
  if (!record || record.source_sha256 !== source.sha256) return null;
  const recipients = (list: string[]) => [...list].sort().join();
  if (
    recipients(record.recipients.map((r) => r.fingerprint)) !==
    recipients(options.recipients.map((r) => r.info.fingerprint))
  )
    return null;
  if (record.signed_by !== (options.signingKey?.info.fingerprint ?? null)) return null;
  const current = await sha256File(join(outDir, name)).catch(() => null);
  if (current?.sha256 !== record.sha256) return null;
  return 'already encrypted, unchanged, to the same recipients';
}
