import { createReadStream } from 'node:fs';
import { type Readable, Transform } from 'node:stream';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { IntegrityError } from '../errors.ts';
import type { EventSink } from '../events.ts';
import { ProgressReporter } from '../progress.ts';
import { withBackupLock } from '../lock/index.ts';
import {
  formatRemoteManifest,
  isRemoteError,
  planSync,
  readLocalSource,
  readOnly,
  readRemoteManifest,
  type Remote,
  retryEvents,
  type RetryOptions,
  type SyncAction,
  textBody,
  withRetry,
} from '../offsite/index.ts';
import { encryptedDir, SUMS_FILE } from '../layout/index.ts';

export interface RemoteSyncOptions {
  backupDir: string;
  /** The real backend; the pipeline wraps it (retry; read-only for a dry run). */
  remote: Remote;
  sink: EventSink;
  dryRun?: boolean;
  /** Retry policy, and an injectable sleep/random for tests. */
  retry?: Omit<RetryOptions, 'onRetry'>;
  now?: () => Date;
  /** How long to wait for another run holding the backup folder's lock (lib/lock). */
  lockTimeoutMs?: number;
}

export interface RemoteSyncReport {
  target: string;
  source: string;
  dryRun: boolean;
  plan: SyncAction[];
  /** What was sent (bytes 0 when copied on the remote from `copiedFrom`, the same bytes). */
  uploaded: {
    name: string;
    bytes: number;
    sha256: string;
    verification: 'server-checksum' | 'read-back';
    copiedFrom?: string;
  }[];
  deleted: string[];
  /** Integrity problems (exit 3): local files that do not verify, remote copies that did not verify. */
  problems: { name: string; code: string; message: string }[];
  /** What the remote holds and vouches for after the sync (its SHA256SUMS): for metrics. */
  remote: { files: number; bytes: number };
  filesUploaded: number;
  bytesUploaded: number;
  /** ISO time the sync finished with nothing left to fix (the "last successful sync" metric); null otherwise or in a dry run. */
  succeededAt: string | null;
  durationMs: number;
}

/**
 * The runbook's `rsync -avz --delete --exclude '*.tmp' $ENCRYPTED_DIR/ $REMOTE`, made safe:
 * verify local files first, upload atomically, verify what the remote holds, publish the
 * remote SHA256SUMS last, and only then delete old copies — never the last good one.
 * Idempotent: a second run with nothing new uploads, writes and deletes nothing.
 */
export async function remoteSync(options: RemoteSyncOptions): Promise<RemoteSyncReport> {
  // Held for the whole run, like encrypted-backup and prune: encrypted/ and its SHA256SUMS
  // do not change while they are verified and sent. A dry run changes nothing and takes no
  // lock; a missing backup folder is reported as the missing encrypted/ folder it implies.
  if (
    options.dryRun ||
    !(await stat(options.backupDir).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  )
    return syncUnderLock(options);
  const timeout = options.lockTimeoutMs === undefined ? {} : { timeoutMs: options.lockTimeoutMs };
  return withBackupLock({ backupDir: options.backupDir, sink: options.sink, ...timeout }, () => syncUnderLock(options));
}

async function syncUnderLock(options: RemoteSyncOptions): Promise<RemoteSyncReport> {
  const { sink } = options;
  const dryRun = options.dryRun ?? false;
  const now = options.now ?? (() => new Date());
  const started = Date.now();
  const source = encryptedDir(options.backupDir);
  const remote = withRetry(dryRun ? readOnly(options.remote) : options.remote, {
    ...options.retry,
    onRetry: retryEvents(sink),
  });
  const target = remote.target;
  const problems: RemoteSyncReport['problems'] = [];

  // 1. Verify the local files against their SHA256SUMS before anything leaves the machine.
  sink({ kind: 'step', step: 'verify-local', message: `verifying ${source} against its SHA256SUMS` });
  const local = await readLocalSource(source);
  for (const r of local.refused) {
    sink({
      kind: 'warning',
      code: r.integrity ? 'LOCAL_UNVERIFIED' : 'LOCAL_NAME_REFUSED',
      message: `not sent: ${r.name}: ${r.reason}`,
      path: join(source, r.name),
    });
    if (r.integrity) problems.push({ name: r.name, code: 'LOCAL_UNVERIFIED', message: r.reason });
  }
  for (const name of local.missing)
    sink({
      kind: 'warning',
      code: 'LOCAL_LISTED_MISSING',
      message: `SHA256SUMS lists ${name}, which is not in ${source}`,
    });

  // 2. What the remote holds, and what its SHA256SUMS vouches for.
  sink({ kind: 'step', step: 'read-remote', message: `reading ${target}` });
  const listing = await remote.list();
  const manifest = await readRemoteManifest(remote, sink);

  // 3. The plan, file by file, with reasons (this is all a dry run does).
  const plan = planSync({
    local: local.files,
    localRefused: local.refused.map((r) => r.name),
    remote: listing,
    remoteSums: manifest.sums,
  });
  for (const a of plan)
    sink({ kind: 'offsite-plan', target, name: a.name, action: a.action, reason: a.reason, bytes: a.bytes });
  const sizes = new Map([
    ...listing.map((e) => [e.name, e.size] as const),
    ...local.files.map((f) => [f.name, f.size] as const),
  ]);
  const report = (extra: Partial<RemoteSyncReport>, vouched: ReadonlyMap<string, string>): RemoteSyncReport => {
    const uploaded = extra.uploaded ?? [];
    return {
      target,
      source,
      dryRun,
      plan,
      uploaded,
      deleted: [],
      problems,
      remote: {
        files: vouched.size,
        bytes: [...vouched.keys()].reduce((sum, name) => sum + (sizes.get(name) ?? 0), 0),
      },
      filesUploaded: uploaded.length,
      bytesUploaded: uploaded.reduce((sum, u) => sum + u.bytes, 0),
      succeededAt: null,
      durationMs: Date.now() - started,
      ...extra,
    };
  };
  if (dryRun) {
    const count = (kind: SyncAction['action']) => plan.filter((a) => a.action === kind).length;
    sink({
      kind: 'dry-run',
      message: `would upload ${count('upload')}, skip ${count('skip')}, delete ${count('delete')}, keep ${count('keep')}, clean up ${count('cleanup')}; nothing was changed`,
    });
    return report({}, manifest.sums);
  }

  // 4. The new manifest starts from what stays vouched for: skipped files, kept verified copies.
  const vouched = new Map<string, string>();
  for (const a of plan) {
    if (a.action === 'skip' || (a.action === 'keep' && a.sha256 !== undefined)) vouched.set(a.name, a.sha256!);
    if (a.action === 'delete' && manifest.sums.has(a.name)) vouched.set(a.name, manifest.sums.get(a.name)!); // until deleted
  }
  const uploads = plan.filter((a) => a.action === 'upload');
  // Replacing a file the manifest vouches for: withdraw the vouching first, so the remote
  // SHA256SUMS is never wrong about a file, even if this run dies mid-upload.
  if (uploads.some((a) => manifest.sums.has(a.name))) await publishManifest(remote, vouched, sizes, sink);

  // 5. Upload (atomic per backend), then verify what the remote holds.
  const uploaded: RemoteSyncReport['uploaded'] = [];
  let failure: unknown;
  const progress = new ProgressReporter({ sink, totalBytes: uploads.reduce((n, a) => n + (a.bytes ?? 0), 0) });
  for (const a of uploads) {
    const path = join(source, a.name);
    try {
      const copied = a.sameAs !== undefined && remote.copy ? await copyOnRemote(remote, a.sameAs, a.name, sink) : false;
      if (!copied) {
        sink({ kind: 'step', step: 'upload', message: `uploading ${a.name}` });
        // Progress counts the bytes the backend reads (a retried attempt starts again from 0).
        const task = progress.task(`upload:${a.name}`, `uploading ${a.name}`, { bytes: a.bytes!, files: null });
        const open = () => counted(createReadStream(path), (bytes) => task.update({ bytes }));
        await remote.put(a.name, { size: a.bytes!, sha256: a.sha256!, path, open });
        task.done({ bytes: a.bytes! });
        sink({ kind: 'offsite-uploaded', target, name: a.name, bytes: a.bytes! });
      }
      const held = await remote.digest(a.name);
      if (held.size !== a.bytes || held.sha256 !== a.sha256) {
        const message = `${a.name} on ${target} holds ${held.size} bytes with sha256 ${held.sha256} after upload, expected ${a.bytes} bytes with sha256 ${a.sha256}; removed from the remote and not vouched for`;
        sink({ kind: 'warning', code: 'OFFSITE_VERIFY_MISMATCH', message });
        problems.push({ name: a.name, code: 'OFFSITE_VERIFY_MISMATCH', message });
        await remote.delete(a.name).then(
          () => sink({ kind: 'offsite-deleted', target, name: a.name, reason: 'failed verification after upload' }),
          () => {},
        );
        continue;
      }
      sink({
        kind: 'offsite-verified',
        target,
        name: a.name,
        bytes: held.size,
        sha256: held.sha256,
        method: held.method,
      });
      uploaded.push({
        name: a.name,
        bytes: copied ? 0 : held.size,
        sha256: held.sha256,
        verification: held.method,
        ...(copied ? { copiedFrom: a.sameAs! } : {}),
      });
      vouched.set(a.name, held.sha256);
    } catch (error) {
      failure = error;
      break;
    }
  }

  // 6. Publish the remote SHA256SUMS last (atomic put, verified). After a failure it still
  // records what did verify (best effort), and nothing is deleted.
  const nextText = formatRemoteManifest(vouched);
  let manifestOk = nextText === manifest.text;
  if (!manifestOk && (failure === undefined || uploaded.length > 0)) {
    try {
      await publishManifest(remote, vouched, sizes, sink);
      manifestOk = true;
    } catch (error) {
      if (failure === undefined) {
        if (!(error instanceof IntegrityError)) throw error;
        problems.push({ name: SUMS_FILE, code: error.code, message: error.message });
      }
    }
  }
  if (failure !== undefined) throw failure;

  // 7. Delete old copies whose newer copy is now verified and vouched for; clear upload leftovers.
  const deleted: string[] = [];
  for (const a of plan.filter((p) => p.action === 'delete')) {
    if (!manifestOk || !vouched.has(a.newerCopy!) || problems.some((p) => p.name === a.newerCopy)) {
      sink({
        kind: 'warning',
        code: 'OFFSITE_DELETE_SKIPPED',
        message: `kept ${a.name}: its newer copy ${a.newerCopy} is not verified on the remote`,
      });
      continue;
    }
    await remote.delete(a.name);
    vouched.delete(a.name);
    deleted.push(a.name);
    sink({ kind: 'offsite-deleted', target, name: a.name, reason: a.reason });
  }
  if (deleted.length > 0) await publishManifest(remote, vouched, sizes, sink);
  for (const a of plan.filter((p) => p.action === 'cleanup')) {
    await remote.delete(a.name).then(
      () => sink({ kind: 'offsite-deleted', target, name: a.name, reason: a.reason }),
      (error: unknown) =>
        sink({
          kind: 'warning',
          code: 'OFFSITE_CLEANUP_FAILED',
          message: `could not remove ${a.name}: ${isRemoteError(error) ? error.reason : String(error)}`,
        }),
    );
  }
  return report({ uploaded, deleted, succeededAt: problems.length === 0 ? now().toISOString() : null }, vouched);
}

/** Write SHA256SUMS for `vouched` (atomic put) and check the remote holds exactly that. */
async function publishManifest(
  remote: Remote,
  vouched: ReadonlyMap<string, string>,
  sizes: ReadonlyMap<string, number>,
  sink: EventSink,
): Promise<void> {
  const body = textBody(formatRemoteManifest(vouched));
  await remote.put(SUMS_FILE, body);
  const held = await remote.digest(SUMS_FILE);
  if (held.sha256 !== body.sha256 || held.size !== body.size) {
    throw new IntegrityError(
      'OFFSITE_VERIFY_MISMATCH',
      `${SUMS_FILE} on ${remote.target} does not read back as written (sha256 ${held.sha256}, expected ${body.sha256}); nothing is deleted`,
    );
  }
  sink({
    kind: 'offsite-manifest',
    target: remote.target,
    name: SUMS_FILE,
    files: vouched.size,
    bytes: [...vouched.keys()].reduce((sum, name) => sum + (sizes.get(name) ?? 0), 0),
    sha256: held.sha256,
  });
}

/** Copy on the remote side (same bytes already there); false when the backend refuses, so the caller uploads. */
async function copyOnRemote(remote: Remote, from: string, to: string, sink: EventSink): Promise<boolean> {
  sink({
    kind: 'step',
    step: 'upload',
    message: `copying ${from} → ${to} on the remote (the same bytes): nothing to upload`,
  });
  try {
    await remote.copy!(from, to);
    return true;
  } catch (error) {
    sink({
      kind: 'warning',
      code: 'OFFSITE_COPY_FAILED',
      message: `${remote.target} could not copy ${from} to ${to} (${(error as Error).message}): uploading it instead`,
    });
    return false;
  }
}

/** `source` through a pass-through that reports the bytes so far; errors and teardown go both ways. */
function counted(source: Readable, onBytes: (bytes: number) => void): Readable {
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      onBytes(bytes);
      callback(null, chunk);
    },
  });
  source.on('error', (error) => counter.destroy(error));
  counter.on('close', () => source.destroy());
  return source.pipe(counter);
}
