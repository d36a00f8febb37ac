// offsite: the Remote interface (a flat folder of files: list, stat, put, get, digest,
// delete) and its backends — a local folder, a folder over ssh driven by rsync, an S3
// prefix — plus the wrappers that go around a real backend: withRetry (bounded exponential
// backoff for transient failures), readOnly (--dry-run) and withFaults (tests: flip a bit,
// fail every nth call). lib/offsite/testing/remote-conformance.ts is the ONE contract every
// backend passes against a real server.
// Failures handled: transient (5xx, SlowDown, timeouts, dropped connections, nothing listening)
// are retried; permanent ones (access denied, ssh authentication, unknown host key, missing
// bucket or folder, disk full) fail at once as a RemoteError naming the target; a copy that
// does not match its sha256 is an IntegrityError (exit 3) and is never published or trusted.
// Importing this index is cheap: the rsync and S3 backends (the AWS SDK alone costs half a
// second of start-up) load only when openRemote opens such a target.
export type { Remote, RemoteEntry, RemoteDigest, PutBody } from './remote.ts';
export { isRemoteName } from './remote.ts';
export { RemoteError, isRemoteError, type RemoteOperation } from './remote-error.ts';
export { localRemote, UPLOAD_TEMP_PREFIX } from './local-remote.ts';
export type { RsyncTarget, RsyncRemoteOptions } from './rsync-remote.ts';
export type { S3RemoteOptions } from './s3-remote.ts';
export {
  withRetry,
  retryEvents,
  retrying,
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  type RetryPolicy,
  type RetryOptions,
  type RetryInfo,
} from './with-retry.ts';
export { withFaults, flipBit, type FaultOptions, type FaultyRemote } from './with-faults.ts';
export { readOnly } from './read-only.ts';
export { fetchToFile, type FetchedFile } from './fetch-to-file.ts';
export { parseTarget, type OffsiteTarget } from './parse-target.ts';
export { openRemote, sshOptionsFromEnv } from './open-remote.ts';
export { archiveKind, type ArchiveKind } from './archive-kind.ts';
export { planSync, isExcluded, type SyncAction, type SyncActionKind, type LocalFile } from './plan-sync.ts';
export { readLocalSource, type LocalSource } from './read-local-source.ts';
export { readRemoteManifest, formatRemoteManifest, textBody, type RemoteManifest } from './remote-manifest.ts';
