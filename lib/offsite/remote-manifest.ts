import { Readable } from 'node:stream';
import { formatChecksumFile, parseChecksumFile, sha256Buffer, type ChecksumEntry } from '../checksum/index.ts';
import { IntegrityError } from '../errors.ts';
import type { EventSink } from '../events.ts';
import type { PutBody, Remote } from './remote.ts';
import { SUMS_FILE } from '../layout/index.ts';

export interface RemoteManifest {
  /** name -> sha256 of each file the remote vouches for. */
  sums: Map<string, string>;
  /** The text as stored, or null when there is none. */
  text: string | null;
}

/**
 * The remote SHA256SUMS: which remote files were verified (size and sha256 checked on the
 * remote after upload). Absent: vouches for nothing. Unreadable as sha256sum format: a
 * warning, and it vouches for nothing (files are sent again, nothing is deleted on its word).
 */
export async function readRemoteManifest(remote: Remote, sink: EventSink): Promise<RemoteManifest> {
  const entry = await remote.stat(SUMS_FILE);
  if (!entry) return { sums: new Map(), text: null };
  const chunks: Buffer[] = [];
  for await (const chunk of await remote.get(SUMS_FILE)) chunks.push(Buffer.from(chunk as Buffer));
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return {
      sums: new Map(parseChecksumFile(text, `${remote.target}${SUMS_FILE}`).map((e) => [e.name, e.sha256])),
      text,
    };
  } catch (error) {
    if (!(error instanceof IntegrityError)) throw error;
    sink({
      kind: 'warning',
      code: 'OFFSITE_MANIFEST_UNREADABLE',
      message: `${error.message}; it is ignored and rewritten, nothing is deleted on its word`,
    });
    return { sums: new Map(), text };
  }
}

export function formatRemoteManifest(sums: ReadonlyMap<string, string>): string {
  const entries: ChecksumEntry[] = [...sums]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, sha256]) => ({ name, sha256 }));
  return formatChecksumFile(entries);
}

/** An in-memory upload body (the manifest), with its sha256 for stores that check it. */
export function textBody(text: string): PutBody {
  const bytes = Buffer.from(text, 'utf8');
  return { size: bytes.length, sha256: sha256Buffer(bytes), open: () => Readable.from([bytes]) };
}
