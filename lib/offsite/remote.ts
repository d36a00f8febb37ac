import type { Readable } from 'node:stream';

// The storage interface every offsite backend implements (restic's backend.Backend, cut to
// what a mirror of <backup-dir>/encrypted/ needs). A remote is ONE flat folder of files:
// a local directory, a directory on an ssh host (rsync), or a prefix in an S3 bucket.
// Wrappers (withRetry, withFaults, readOnly) implement the same interface around a real one,
// and lib/offsite/testing/remote-conformance.ts is the contract all of them pass.

export interface RemoteEntry {
  /** File name inside the remote folder (no slash). */
  name: string;
  size: number;
}

/** What the remote holds under a name, as checked on the remote side. */
export interface RemoteDigest {
  size: number;
  /** Hex sha256 of the bytes the remote holds. */
  sha256: string;
  /** `server-checksum`: a full-object sha256 the server computed; `read-back`: downloaded and hashed. */
  method: 'server-checksum' | 'read-back';
}

/**
 * The bytes to upload. `open()` is called once per attempt (a retried upload needs a fresh
 * stream). `path` and `sha256` are optional hints: a backend that needs a local file (rsync)
 * uses `path` instead of spooling the stream; one that can have the server check the body
 * (S3 x-amz-checksum-sha256) sends `sha256`.
 */
export interface PutBody {
  size: number;
  open(): Readable;
  path?: string;
  sha256?: string;
}

export interface Remote {
  /** Where the remote is, for messages: "/mnt/offsite", "user@host:/srv/ark", "s3://bucket/prefix". Never a secret. */
  readonly target: string;
  /**
   * Files at the top level of the folder, hidden ones (".ark-upload-*" temps) included.
   * A missing folder or bucket is REMOTE_TARGET_MISSING; an S3 prefix is never missing.
   */
  list(): Promise<RemoteEntry[]>;
  /** One file, or null when it does not exist. */
  stat(name: string): Promise<RemoteEntry | null>;
  /**
   * Store `body` under `name`, atomically: until the upload is complete and committed, the
   * remote shows the previous file under `name` (or none), never a part. A failed put leaves
   * nothing new under `name`. Idempotent: putting the same bytes twice leaves the same file.
   * A body that yields more or fewer than `body.size` bytes fails without committing. A
   * failed put may leave a hidden ".ark-upload-*" temp file, which the next sync removes.
   */
  put(name: string, body: PutBody): Promise<void>;
  /**
   * Optional: store under `to` the bytes the remote holds under `from`, on the remote side
   * (nothing crosses the network), atomically like put. Recovery points share unchanged
   * archives, so their encrypted copies are the same bytes under several names: the second
   * one is copied there, not uploaded. A backend without it gets an upload.
   */
  copy?(from: string, to: string): Promise<void>;
  /** The file's bytes, streamed. A missing file is a RemoteError with code REMOTE_NOT_FOUND. */
  get(name: string): Promise<Readable>;
  /** Size and sha256 of what the remote holds (server checksum when the backend has one, else read back). */
  digest(name: string): Promise<RemoteDigest>;
  /** Remove `name`. Idempotent: deleting a missing file succeeds. */
  delete(name: string): Promise<void>;
}

/** Portable file names only: no path separators, no wildcards or shell metacharacters, no leading "-". */
export const REMOTE_NAME = /^[A-Za-z0-9_.+-]+$/;

export function isRemoteName(name: string): boolean {
  return REMOTE_NAME.test(name) && !name.startsWith('-') && name !== '.' && name !== '..';
}
