import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { UPLOAD_TEMP_PREFIX } from './local-remote.ts';
import { digestStream } from './digest-stream.ts';
import { classifyS3Error } from './classify-s3-error.ts';
import { sized } from './exact-size.ts';
import { isRemoteName, type PutBody, type Remote, type RemoteDigest, type RemoteEntry } from './remote.ts';
import { invalidName, RemoteError, type RemoteOperation } from './remote-error.ts';

export interface S3RemoteOptions {
  bucket: string;
  /** Folder inside the bucket: "" or "a/b" (a trailing "/" is added). */
  prefix: string;
  /** A ready client, or what to build one from (endpoint, region, credentials). */
  client: S3Client | S3ClientConfig;
  /** Bodies larger than this go multipart (parts of this size). Default 16 MiB; S3's minimum part is 5 MiB. */
  partSize?: number;
  /** Largest object published by server-side copy (CopyObject's limit is 5 GiB). */
  copyLimit?: number;
}

/**
 * An S3 bucket prefix (AWS or any S3-compatible store) as a Remote.
 *
 * Atomic publish: the bytes go to a hidden temp key (".ark-upload-<name>.<random>"), then
 * one server-side CopyObject puts them under the real key, then the temp key is deleted
 * (also on failure; a crash leaves only a temp key, which the next sync removes). Why not
 * straight to the final key, which real S3 commits atomically? Because S3-compatible stores
 * do not all do so: s3rver writes a streaming PUT in place, and our conformance suite caught
 * a reader seeing half a file. The copy is one short server-side request, never exposed to
 * the network upload; it costs one more request, and with ChecksumAlgorithm=SHA256 AWS
 * stores a full-object sha256 of the copy, which makes verification free. Above copyLimit
 * (CopyObject stops at 5 GiB) the file goes multipart straight to its key, committed by
 * CompleteMultipartUpload (atomic on S3; not on s3rver). Single-part uploads carry
 * x-amz-checksum-sha256, so a store that implements it rejects a body corrupted on the way.
 *
 * Verification (digest): the full-object sha256 the server reports (HeadObject with
 * ChecksumMode) when there is one; otherwise (multipart uploads, stores without checksums
 * such as s3rver or older MinIO) the object is read back and hashed.
 *
 * The SDK's own retries are off: withRetry is the one retry policy, so retries are visible
 * as events and their delays testable.
 */
export function s3Remote(options: S3RemoteOptions): Remote {
  const client = options.client instanceof S3Client ? options.client : new S3Client(s3ClientDefaults(options.client));
  const { bucket } = options;
  const prefix = options.prefix === '' || options.prefix.endsWith('/') ? options.prefix : `${options.prefix}/`;
  const target = `s3://${bucket}/${prefix}`;
  const partSize = options.partSize ?? 16 * 1024 * 1024;
  const copyLimit = options.copyLimit ?? 5 * 1024 ** 3;
  const key = (operation: RemoteOperation, name: string) => {
    if (!isRemoteName(name)) throw invalidName(target, operation, name);
    return `${prefix}${name}`;
  };
  const fail = (operation: RemoteOperation, name: string | undefined, error: unknown) =>
    classifyS3Error(error, { target, bucket, operation, ...(name === undefined ? {} : { name }) });

  /** One upload of `body` to `Key`: a PUT up to partSize, multipart above. Aborts the request when the body fails. */
  const upload = async (Key: string, body: PutBody) => {
    const stream = sized(body.open(), body.size);
    const abort = new AbortController();
    // The SDK does not notice a failing body by itself: abort the request, and report the body's error.
    stream.once('error', (error) => abort.abort(error));
    const bodyError = () => (abort.signal.aborted ? abort.signal.reason : undefined);
    if (body.size <= partSize) {
      await client
        .send(
          new PutObjectCommand({
            Bucket: bucket,
            Key,
            Body: stream,
            ContentLength: body.size,
            // A store that implements it (AWS) rejects a body corrupted on the way (BadDigest).
            ...(body.sha256 ? { ChecksumSHA256: Buffer.from(body.sha256, 'hex').toString('base64') } : {}),
          }),
          { abortSignal: abort.signal },
        )
        .catch((error: unknown) => {
          throw bodyError() ?? error;
        });
      return;
    }
    // Parts stay invisible until CompleteMultipartUpload. On failure we abort the upload
    // ourselves (best effort: a store without AbortMultipartUpload, like s3rver, must not
    // hide the real error); a bucket lifecycle rule should expire stray parts anyway.
    const multipart = new Upload({
      client,
      params: { Bucket: bucket, Key, Body: stream, ContentLength: body.size },
      partSize,
      queueSize: 2,
      leavePartsOnError: true,
    });
    abort.signal.addEventListener('abort', () => void multipart.abort().catch(() => {}));
    try {
      await multipart.done();
    } catch (error) {
      if (multipart.uploadId)
        await client
          .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key, UploadId: multipart.uploadId }))
          .catch(() => {});
      throw bodyError() ?? error;
    }
  };

  const head = async (name: string) => {
    try {
      return await client.send(
        new HeadObjectCommand({ Bucket: bucket, Key: key('stat', name), ChecksumMode: 'ENABLED' }),
      );
    } catch (error) {
      const failure = fail('stat', name, error);
      if (failure.code === 'REMOTE_NOT_FOUND') return null;
      throw failure;
    }
  };

  /** Server-side copy; ChecksumAlgorithm makes AWS store a full-object sha256 of it: digest() then needs no download. */
  const copyObject = (fromKey: string, toKey: string) =>
    client.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: toKey,
        CopySource: encodeURIComponent(`${bucket}/${fromKey}`).replace(/%2F/g, '/'),
        ChecksumAlgorithm: 'SHA256',
      }),
    );
  return {
    target,
    async list() {
      const entries: RemoteEntry[] = [];
      let token: string | undefined;
      try {
        do {
          const page = await client.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: prefix,
              Delimiter: '/',
              ...(token ? { ContinuationToken: token } : {}),
            }),
          );
          for (const object of page.Contents ?? []) {
            const name = object.Key!.slice(prefix.length);
            if (name !== '') entries.push({ name, size: object.Size ?? 0 });
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
      } catch (error) {
        throw fail('list', undefined, error);
      }
      return entries.sort((a, b) => a.name.localeCompare(b.name));
    },
    async stat(name) {
      const info = await head(name);
      return info ? { name, size: info.ContentLength ?? 0 } : null;
    },
    async put(name, body: PutBody) {
      const Key = key('put', name);
      // Upload under a hidden temp key, then copy it over the real key server-side: the real
      // key changes only in one request, never while bytes are still arriving (S3 itself
      // commits a PUT atomically, but S3-compatible stores such as s3rver write in place).
      if (body.size > copyLimit) {
        // CopyObject stops at 5 GiB: such a file goes multipart straight to its key, which S3
        // commits atomically at CompleteMultipartUpload (parts are never visible).
        try {
          await upload(Key, body);
        } catch (error) {
          throw fail('put', name, error);
        }
        return;
      }
      const tempKey = `${prefix}${UPLOAD_TEMP_PREFIX}${name}.${randomBytes(4).toString('hex')}`;
      try {
        await upload(tempKey, body);
        await copyObject(tempKey, Key);
      } catch (error) {
        throw fail('put', name, error);
      } finally {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: tempKey })).catch(() => {});
      }
    },
    async copy(from, to) {
      try {
        await copyObject(key('copy', from), key('copy', to)); // one request, committed atomically
      } catch (error) {
        throw fail('copy', to, error);
      }
    },
    async get(name) {
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key('get', name) }));
        return out.Body as Readable;
      } catch (error) {
        throw fail('get', name, error);
      }
    },
    async digest(name): Promise<RemoteDigest> {
      const info = await head(name);
      if (!info)
        throw new RemoteError('REMOTE_NOT_FOUND', 'no such object', {
          target,
          operation: 'digest',
          name,
          retryable: false,
        });
      const serverSha = fullObjectSha256(info.ChecksumSHA256, info.ChecksumType);
      if (serverSha) return { size: info.ContentLength ?? 0, sha256: serverSha, method: 'server-checksum' };
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key('digest', name) }));
        return { ...(await digestStream(out.Body as Readable)), method: 'read-back' };
      } catch (error) {
        throw fail('digest', name, error);
      }
    },
    async delete(name) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key('delete', name) }));
      } catch (error) {
        const failure = fail('delete', name, error);
        if (failure.code !== 'REMOTE_NOT_FOUND') throw failure;
      }
    },
  };
}

/** A sha256 of the whole object: not a composite "<hash>-<parts>" of a multipart upload. */
function fullObjectSha256(checksum: string | undefined, type: string | undefined): string | null {
  if (!checksum || checksum.includes('-') || (type !== undefined && type !== 'FULL_OBJECT')) return null;
  const hex = Buffer.from(checksum, 'base64').toString('hex');
  return hex.length === 64 ? hex : null;
}

const quietLogger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** What every client we build gets: one retry policy (ours), bounded waits, no checksum headers a non-AWS store may reject, no console output. */
export function s3ClientDefaults(config: S3ClientConfig): S3ClientConfig {
  return {
    maxAttempts: 1,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 60_000 },
    logger: quietLogger,
    ...config,
  };
}
