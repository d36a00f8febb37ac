import { randomBytes } from 'node:crypto';
import { delay, http, HttpResponse, passthrough } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sha256Buffer } from '../checksum/index.ts';
import { s3Remote } from './s3-remote.ts';
import { bodyOf } from './testing/bodies.ts';
import { describeRemoteConformance, readAll } from './testing/remote-conformance.ts';
import { startS3rver, type TestS3 } from './testing/s3rver.ts';
import { freePort } from './testing/sshd.ts';
import { withRetry, type RetryInfo } from './with-retry.ts';

// A real S3 implementation (s3rver) on 127.0.0.1, and msw in front of the S3 client to
// inject what a real cloud does (503 SlowDown, 500, timeouts, connections dropped mid-upload,
// 403), passing everything else through to s3rver.
const MiB = 1024 * 1024;
let s3: TestS3;
beforeAll(async () => {
  s3 = await startS3rver({ buckets: ['offsite'], lifetimeMs: 120_000 });
});
afterAll(async () => {
  await s3?.stop();
});

const xmlError = (status: number, code: string, message = code) =>
  new HttpResponse(
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
    { status, headers: { 'content-type': 'application/xml' } },
  );

function remoteAt(
  prefix = `t-${randomBytes(4).toString('hex')}`,
  options: { bucket?: string; endpoint?: string; accessKeyId?: string; requestTimeout?: number } = {},
) {
  return s3Remote({
    bucket: options.bucket ?? 'offsite',
    prefix,
    partSize: 5 * MiB,
    client: {
      endpoint: options.endpoint ?? s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { ...s3.credentials, ...(options.accessKeyId ? { accessKeyId: options.accessKeyId } : {}) },
      ...(options.requestTimeout
        ? { requestHandler: { requestTimeout: options.requestTimeout, connectionTimeout: options.requestTimeout } }
        : {}),
    },
  });
}

describeRemoteConformance('s3 (s3rver)', async () => remoteAt(), { largeSize: 6 * MiB + 123 });

describe('s3 remote against injected cloud faults', () => {
  const mock = setupServer();
  beforeAll(() => mock.listen({ onUnhandledRequest: 'bypass' }));
  afterEach(() => mock.resetHandlers());
  afterAll(() => mock.close());

  const retrying = (remote: ReturnType<typeof remoteAt>) => {
    const retries: RetryInfo[] = [];
    const delays: number[] = [];
    const wrapped = withRetry(remote, {
      onRetry: (info) => retries.push(info),
      sleep: async (ms) => void delays.push(ms),
      random: () => 0.5,
    });
    return { remote: wrapped, retries, delays };
  };
  const path = (remote: { target: string }) => new URL(remote.target.replace('s3://', 'http://x/')).pathname; // "/offsite/t-xxx/"

  it('503 SlowDown then 500 on the upload: retried with backoff, the object ends complete and verified', async () => {
    const { remote, retries, delays } = retrying(remoteAt());
    const data = randomBytes(200_000);
    let puts = 0;
    mock.use(
      http.put(`${s3.endpoint}${path(remote)}*`, async ({ request }) => {
        puts += 1;
        await request.arrayBuffer();
        if (puts === 1) return xmlError(503, 'SlowDown', 'Please reduce your request rate.');
        if (puts === 2) return xmlError(500, 'InternalError', 'We encountered an internal error.');
        return passthrough();
      }),
    );
    await remote.put('arkalia_states_20261125.tar.gz.gpg', bodyOf(data, { withSha256: true }));
    expect(
      retries.map((r) => [
        r.operation,
        r.attempt,
        r.error.code,
        r.error.message.includes('SlowDown') || r.error.message.includes('InternalError'),
      ]),
    ).toEqual([
      ['put', 1, 'REMOTE_TRANSIENT', true],
      ['put', 2, 'REMOTE_TRANSIENT', true],
    ]);
    expect(delays).toEqual([500, 1000]);
    expect(await remote.digest('arkalia_states_20261125.tar.gz.gpg')).toEqual({
      size: data.length,
      sha256: sha256Buffer(data),
      method: 'read-back',
    });
  });

  it('a connection dropped mid-upload of a multipart part: the upload is aborted, retried whole, and nothing partial is ever visible', async () => {
    const prefix = `t-${randomBytes(4).toString('hex')}`;
    const { remote, retries } = retrying(remoteAt(prefix, { requestTimeout: 2_000 }));
    const data = randomBytes(11 * MiB);
    let dropped = 0;
    const visibleDuringFailure: string[] = [];
    mock.use(
      http.put(`${s3.endpoint}${path(remote)}*`, async ({ request }) => {
        if (new URL(request.url).searchParams.get('partNumber') === '2' && dropped === 0) {
          dropped += 1;
          await request.arrayBuffer();
          visibleDuringFailure.push(...(await remoteAt(prefix).list()).map((e) => e.name));
          return HttpResponse.error();
        }
        return passthrough();
      }),
    );
    await remote.put('big_20261125.gpg', bodyOf(data));
    expect(dropped).toBe(1);
    expect(visibleDuringFailure).toEqual([]);
    // msw drops the socket of a 100-continue upload without an answer: the client sees a timeout.
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(
      retries.every(
        (r) =>
          r.operation === 'put' && r.error.retryable && ['REMOTE_TRANSIENT', 'REMOTE_TIMEOUT'].includes(r.error.code),
      ),
    ).toBe(true);
    expect((await remote.digest('big_20261125.gpg')).sha256).toBe(sha256Buffer(data));
    expect((await remote.list()).map((e) => e.name)).toEqual(['big_20261125.gpg']);
  });

  it('a request that times out is retried', async () => {
    const { remote, retries } = retrying(remoteAt(undefined, { requestTimeout: 300 }));
    let lists = 0;
    mock.use(
      http.get(`${s3.endpoint}/offsite*`, async () => {
        lists += 1;
        if (lists === 1) await delay(2_000);
        return passthrough();
      }),
    );
    expect(await remote.list()).toEqual([]);
    expect(retries.map((r) => r.error.code)).toEqual(['REMOTE_TIMEOUT']);
  });

  it('a flaky store (a third of all requests fail, 503 or dropped) still ends consistent and verified', async () => {
    const retries: RetryInfo[] = [];
    const remote = withRetry(remoteAt(), {
      policy: { retries: 10 },
      onRetry: (info) => retries.push(info),
      sleep: async () => {},
    });
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    mock.use(
      http.all(`${s3.endpoint}/offsite*`, async ({ request }) => {
        if (random() < 1 / 3) {
          await request.arrayBuffer();
          return random() < 0.5 ? xmlError(503, 'ServiceUnavailable') : HttpResponse.error();
        }
        return passthrough();
      }),
    );
    for (const i of [1, 2, 3]) await remote.put(`f${i}_2026112${i}.gpg`, bodyOf(`file ${i}`));
    await remote.delete('f1_20261121.gpg');
    const files = (await remote.list()).filter((e) => !e.name.startsWith('.'));
    expect(files).toEqual([
      { name: 'f2_20261122.gpg', size: 6 },
      { name: 'f3_20261123.gpg', size: 6 },
    ]);
    expect((await readAll(await remote.get('f3_20261123.gpg'))).toString()).toBe('file 3');
    expect(retries.length).toBeGreaterThanOrEqual(2);
  });

  it('403 AccessDenied fails at once (no retry) and names the target', async () => {
    const { remote, retries } = retrying(remoteAt('denied'));
    mock.use(http.all(`${s3.endpoint}/offsite*`, () => xmlError(403, 'AccessDenied', 'Access Denied')));
    await expect(remote.put('a.gpg', bodyOf('x'))).rejects.toMatchObject({
      code: 'REMOTE_ACCESS_DENIED',
      retryable: false,
      message: expect.stringMatching(/^s3:\/\/offsite\/denied\/: put a\.gpg: access denied \(AccessDenied, HTTP 403\)/),
    });
    expect(retries).toEqual([]);
  });

  it('a store that keeps failing: gives up after the bounded retries, nothing half-published', async () => {
    const { remote, retries, delays } = retrying(remoteAt());
    mock.use(
      http.put(`${s3.endpoint}/offsite*`, async ({ request }) => {
        await request.arrayBuffer();
        return xmlError(503, 'SlowDown');
      }),
    );
    await expect(remote.put('a.gpg', bodyOf('x'))).rejects.toMatchObject({
      code: 'REMOTE_TRANSIENT',
      retryable: false,
      message: expect.stringContaining('gave up after 5 attempts'),
    });
    expect(retries).toHaveLength(4);
    expect(delays).toEqual([500, 1000, 2000, 4000]);
    mock.resetHandlers();
    expect(await remote.list()).toEqual([]);
  });

  it('uses a full-object sha256 the server reports instead of downloading', async () => {
    const remote = remoteAt();
    await remote.put('a.gpg', bodyOf('abc'));
    mock.use(
      http.head(
        `${s3.endpoint}${path(remote)}a.gpg`,
        () =>
          new HttpResponse(null, {
            status: 200,
            headers: {
              'content-length': '3',
              'x-amz-checksum-sha256': Buffer.from(sha256Buffer('abc'), 'hex').toString('base64'),
              'x-amz-checksum-type': 'FULL_OBJECT',
            },
          }),
      ),
    );
    expect(await remote.digest('a.gpg')).toEqual({ size: 3, sha256: sha256Buffer('abc'), method: 'server-checksum' });
    mock.use(
      http.head(
        `${s3.endpoint}${path(remote)}a.gpg`,
        () =>
          new HttpResponse(null, {
            status: 200,
            headers: { 'content-length': '3', 'x-amz-checksum-sha256': 'AAAA-2' },
          }),
      ),
    );
    expect(await remote.digest('a.gpg')).toMatchObject({ method: 'read-back', sha256: sha256Buffer('abc') });
  });
});

describe('s3 remote above the server-side copy limit', () => {
  it('uploads multipart straight to the key, and the bytes round-trip', async () => {
    const remote = s3Remote({
      bucket: 'offsite',
      prefix: `big-${randomBytes(3).toString('hex')}`,
      partSize: 5 * MiB,
      copyLimit: 5 * MiB,
      client: { endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3.credentials },
    });
    const data = randomBytes(6 * MiB);
    await remote.put('big_20261125.gpg', bodyOf(data));
    expect(await remote.list()).toEqual([{ name: 'big_20261125.gpg', size: data.length }]);
    expect((await remote.digest('big_20261125.gpg')).sha256).toBe(sha256Buffer(data));
  });
});

describe('s3 remote permanent failures (real s3rver)', () => {
  it('NoSuchBucket: REMOTE_TARGET_MISSING, not retried', async () => {
    const retries: unknown[] = [];
    const remote = withRetry(remoteAt('x', { bucket: 'no-such-bucket' }), {
      onRetry: (i) => retries.push(i),
      sleep: async () => {},
    });
    await expect(remote.list()).rejects.toMatchObject({
      code: 'REMOTE_TARGET_MISSING',
      message: expect.stringContaining('bucket no-such-bucket does not exist'),
    });
    await expect(remote.put('a.gpg', bodyOf('x'))).rejects.toMatchObject({ retryable: false });
    expect(retries).toEqual([]);
  });

  it('an unknown access key: REMOTE_ACCESS_DENIED, and the secret never appears in the message', async () => {
    const remote = remoteAt('x', { accessKeyId: 'NOT-A-KEY' });
    const error = (await remote.list().catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ code: 'REMOTE_ACCESS_DENIED', retryable: false });
    expect(JSON.stringify({ message: error.message, details: (error as { details?: unknown }).details })).not.toContain(
      s3.credentials.secretAccessKey,
    );
  });

  it('nothing listening at the endpoint: retried, then REMOTE_UNREACHABLE', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const delays: number[] = [];
    const remote = withRetry(remoteAt('x', { endpoint }), {
      policy: { retries: 2 },
      sleep: async (ms) => void delays.push(ms),
      random: () => 0.5,
    });
    await expect(remote.list()).rejects.toMatchObject({
      code: 'REMOTE_UNREACHABLE',
      message: expect.stringContaining('gave up after 3 attempts'),
    });
    expect(delays).toEqual([500, 1000]);
  });
});
