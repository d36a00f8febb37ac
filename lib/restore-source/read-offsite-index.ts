import { z } from 'zod';
import { sha256Buffer } from '../checksum/index.ts';
import { ENCRYPTED_MANIFEST_FORMAT, encryptedManifestSchema, type EncryptedRecord } from '../crypto/index.ts';
import { ArkError, IntegrityError, NotFoundError } from '../errors.ts';
import type { EventSink } from '../events.ts';
import {
  readRemoteManifest,
  type Remote,
  type RemoteEntry,
  RemoteError,
  retrying,
  type RetryOptions,
  withRetry,
} from '../offsite/index.ts';
import { ENCRYPTED_MANIFEST_FILE, SUMS_FILE } from '../layout/index.ts';

// What an offsite folder says about itself, read without downloading any backup: its files,
// its SHA256SUMS (what remote-sync verified there) and encrypted_manifest.json (which archive
// each .gpg decrypts to, and that archive's sha256). The manifest is trusted only once its
// own bytes match SHA256SUMS; it is small and read into memory (a dry run writes nothing).

export interface OffsiteIndex {
  target: string;
  listing: RemoteEntry[];
  sums: Map<string, string>;
  manifest: Record<string, EncryptedRecord>;
  /** The manifest as fetched: for the report. */
  manifestFile: { name: string; bytes: number; sha256: string };
}

const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

// The same schema encrypted-backup writes the manifest with (lib/crypto/encrypted-dir.ts).
const manifestSchema = encryptedManifestSchema;

/** `remote` is the bare backend (read-only); list and stat are retried here. */
export async function readOffsiteIndex(
  remote: Remote,
  options: { sink: EventSink; retry?: RetryOptions },
): Promise<OffsiteIndex> {
  const retried = withRetry(remote, options.retry);
  const target = remote.target;
  const listing = await retried.list();
  const files = listing.filter((e) => !e.name.startsWith('.'));
  if (files.length === 0)
    throw new NotFoundError('OFFSITE_EMPTY', `${target} holds no files: is --from the folder remote-sync writes to?`);

  const { sums, text } = await readRemoteManifest(retried, options.sink);
  if (text === null) {
    throw new IntegrityError(
      'OFFSITE_SUMS_MISSING',
      `${target} has no ${SUMS_FILE}: nothing vouches for its files, so none is trusted (is --from the folder remote-sync writes to?)`,
    );
  }
  if (sums.size === 0)
    throw new IntegrityError(
      'OFFSITE_SUMS_INVALID',
      `${offsitePath(target, SUMS_FILE)} vouches for no file (empty or not in sha256sum format): nothing there can be verified`,
    );

  const expected = sums.get(ENCRYPTED_MANIFEST_FILE);
  if (!listing.some((e) => e.name === ENCRYPTED_MANIFEST_FILE)) {
    throw new IntegrityError(
      'OFFSITE_MANIFEST_MISSING',
      `${target} has no ${ENCRYPTED_MANIFEST_FILE}: without it the sha256 of the decrypted archives cannot be verified, so nothing is restored from it`,
    );
  }
  if (expected === undefined) {
    throw new IntegrityError(
      'OFFSITE_MANIFEST_NOT_VOUCHED',
      `${offsitePath(target, SUMS_FILE)} does not list ${ENCRYPTED_MANIFEST_FILE}: nothing vouches for it, so it is not trusted`,
    );
  }
  const bytes = await fetchSmall(remote, ENCRYPTED_MANIFEST_FILE, expected, options);
  let manifest: z.infer<typeof manifestSchema>;
  try {
    manifest = manifestSchema.parse(JSON.parse(bytes.toString('utf8')));
  } catch (error) {
    throw new IntegrityError(
      'OFFSITE_MANIFEST_INVALID',
      `${offsitePath(target, ENCRYPTED_MANIFEST_FILE)} matches SHA256SUMS but is not a valid ${ENCRYPTED_MANIFEST_FORMAT} manifest: ${(error as Error).message.split('\n')[0]}`,
      { cause: error },
    );
  }
  return {
    target,
    listing,
    sums,
    manifest: manifest.files,
    manifestFile: { name: ENCRYPTED_MANIFEST_FILE, bytes: bytes.length, sha256: expected },
  };
}

/** A small file into memory, retried on transient failures and downloaded once more on a mismatch. */
async function fetchSmall(
  remote: Remote,
  name: string,
  sha256: string,
  options: { sink: EventSink; retry?: RetryOptions },
): Promise<Buffer> {
  const seen: string[] = [];
  for (let attempt = 1; attempt <= 2; attempt += 1) {
    const bytes = await retrying(
      { target: remote.target, operation: 'get', name },
      () => readAll(remote, name),
      options.retry,
    );
    const actual = sha256Buffer(bytes);
    if (actual === sha256) return bytes;
    seen.push(actual);
    if (attempt === 1)
      options.sink({
        kind: 'warning',
        code: 'OFFSITE_FETCH_MISMATCH',
        message: `${name} downloaded with sha256 ${actual}, not the ${sha256} SHA256SUMS lists: downloading it again`,
      });
  }
  throw new IntegrityError(
    'OFFSITE_COPY_CORRUPT',
    `${offsitePath(remote.target, name)} does not match the offsite SHA256SUMS (downloaded twice: sha256 ${seen.join(', then ')}; expected ${sha256}): the offsite copy is damaged`,
    {
      details: { name, expected: sha256, actual: seen },
    },
  );
}

async function readAll(remote: Remote, name: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of await remote.get(name)) {
      total += (chunk as Buffer).length;
      if (total > MAX_MANIFEST_BYTES)
        throw new IntegrityError(
          'OFFSITE_MANIFEST_TOO_LARGE',
          `${offsitePath(remote.target, name)} is larger than ${MAX_MANIFEST_BYTES} bytes: not a manifest`,
        );
      chunks.push(Buffer.from(chunk as Buffer));
    }
  } catch (error) {
    if (error instanceof ArkError) throw error;
    throw new RemoteError('REMOTE_TRANSIENT', `download interrupted: ${(error as Error).message}`, {
      target: remote.target,
      operation: 'get',
      name,
      retryable: true,
      cause: error,
    });
  }
  return Buffer.concat(chunks);
}

/** A file on the offsite, for messages: /mnt/offsite/x, user@host:/srv/x, s3://bucket/prefix/x. */
export function offsitePath(target: string, name: string): string {
  return /[/:]$/.test(target) ? `${target}${name}` : `${target}/${name}`;
}
