import { Parser, type ReadEntry } from 'tar';
import { pipeline } from 'node:stream/promises';
import { ExtractBudget, memberPath, openArchiveStream } from '../archive/index.ts';
import { IntegrityError } from '../errors.ts';
import { validateToml } from '../state/index.ts';

export interface ArchiveScan {
  members: number;
  /** TOML members that do not parse: they were that way when the backup was taken. */
  invalidToml: { path: string; reason: string }[];
}

const MAX_TOML_BYTES = 16 * 1024 * 1024;

/**
 * One pass over a decrypted archive, after its sha256 matched the manifest: how many members
 * it has (to size the extraction caps) and which TOML members are invalid. Its bytes are
 * proven to be the ones the backup wrote (SHA256SUMS -> ciphertext, MDC, manifest -> plaintext),
 * so an invalid TOML file in it was invalid on disk when the backup ran — what the daily
 * backup's own manifest would have recorded, which the offsite copy does not carry.
 */
export async function scanArchive(file: string): Promise<ArchiveScan> {
  const budget = new ExtractBudget();
  const invalidToml: ArchiveScan['invalidToml'] = [];
  let members = 0;
  let current = '(archive header)';
  const parser = new Parser({ strict: true });
  parser.on('entry', (entry: ReadEntry) => {
    members += 1;
    current = entry.path;
    const path = memberPath(entry.path);
    if (entry.type !== 'File' || !path.endsWith('.toml') || (entry.size ?? 0) > MAX_TOML_BYTES) {
      entry.resume();
      return;
    }
    const chunks: Buffer[] = [];
    entry.on('data', (c: Buffer) => chunks.push(c));
    entry.on('end', () => {
      const check = validateToml(Buffer.concat(chunks));
      if (!check.ok) invalidToml.push({ path, reason: check.reason });
    });
  });
  const stream = await openArchiveStream(file, budget, () => current);
  try {
    await pipeline(stream.source, ...stream.stages, parser);
  } catch (error) {
    if (error instanceof IntegrityError) throw error;
    throw new IntegrityError(
      'ARCHIVE_CORRUPT',
      `${file} cannot be read as a tar archive: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return { members, invalidToml: invalidToml.sort((a, b) => a.path.localeCompare(b.path)) };
}
