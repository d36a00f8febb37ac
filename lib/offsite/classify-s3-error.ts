import { RemoteError, type RemoteOperation } from './remote-error.ts';
import { BodyReadError, BodySizeError } from './exact-size.ts';

const RETRYABLE_CODES = new Set([
  'SlowDown',
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'InternalError',
  'ServiceUnavailable',
  'Throttling',
  'ThrottlingException',
  'TooManyRequests',
  'RequestLimitExceeded',
  'BadDigest',
  'XAmzContentSHA256Mismatch',
  'IncompleteBody',
]);
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
]);

/**
 * An SDK failure -> RemoteError. Retryable: 5xx, 429, SlowDown and friends, timeouts and
 * network errors (reset, refused, dropped mid-upload). Permanent: 403 (AccessDenied, bad
 * key, bad signature), NoSuchBucket, other 4xx. A 404 on an object is REMOTE_NOT_FOUND.
 */
export function classifyS3Error(
  error: unknown,
  where: { target: string; bucket: string; operation: RemoteOperation; name?: string },
): RemoteError {
  if (error instanceof RemoteError) return error;
  const base = {
    target: where.target,
    operation: where.operation,
    ...(where.name === undefined ? {} : { name: where.name }),
    cause: slim(error),
  };
  if (error instanceof BodySizeError)
    return new RemoteError('REMOTE_BODY_SIZE', `${error.message}; nothing was committed`, {
      ...base,
      retryable: false,
    });
  if (error instanceof BodyReadError)
    return new RemoteError('REMOTE_BODY_FAILED', `${error.message}; nothing was committed`, {
      ...base,
      retryable: false,
    });
  const e = error as {
    name?: string;
    Code?: string;
    code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
    cause?: { code?: string };
  };
  const status = e.$metadata?.httpStatusCode;
  const code = e.Code ?? e.name ?? 'Error';
  const errno = e.code ?? e.cause?.code;
  const said = `${code}${status ? `, HTTP ${status}` : ''}`;

  if (code === 'NoSuchBucket' || (status === 404 && where.operation === 'list')) {
    return new RemoteError(
      'REMOTE_TARGET_MISSING',
      `bucket ${where.bucket} does not exist (${said}): create it or fix the target`,
      { ...base, retryable: false },
    );
  }
  if (code === 'NoSuchKey' || code === 'NotFound' || status === 404) {
    return new RemoteError('REMOTE_NOT_FOUND', `no such object (${said})`, { ...base, retryable: false });
  }
  if (
    status === 403 ||
    code === 'AccessDenied' ||
    code === 'InvalidAccessKeyId' ||
    code === 'SignatureDoesNotMatch' ||
    code === 'ExpiredToken' ||
    code === 'InvalidToken'
  ) {
    return new RemoteError(
      'REMOTE_ACCESS_DENIED',
      `access denied (${said}): check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the bucket policy`,
      { ...base, retryable: false },
    );
  }
  if (status === 401) {
    return new RemoteError('REMOTE_AUTH_FAILED', `authentication failed (${said}): check the credentials`, {
      ...base,
      retryable: false,
    });
  }
  if ((status !== undefined && (status >= 500 || status === 429)) || RETRYABLE_CODES.has(code)) {
    return new RemoteError(
      'REMOTE_TRANSIENT',
      `the store is failing or throttling (${said}): ${firstLine(e.message)}`,
      { ...base, retryable: true },
    );
  }
  if (code === 'TimeoutError' || code === 'AbortError' || errno === 'ETIMEDOUT') {
    return new RemoteError('REMOTE_TIMEOUT', `timed out: ${firstLine(e.message)}`, { ...base, retryable: true });
  }
  if (errno === 'ECONNREFUSED') {
    return new RemoteError(
      'REMOTE_UNREACHABLE',
      `nothing answers at the endpoint (connection refused): is the S3 endpoint up and the URL right?`,
      { ...base, retryable: true },
    );
  }
  if (
    (errno !== undefined && NETWORK_CODES.has(errno)) ||
    (status === undefined && (code === 'TypeError' || /network|socket|ECONNRESET|EPIPE|aborted/i.test(e.message ?? '')))
  ) {
    return new RemoteError('REMOTE_TRANSIENT', `connection failed (${errno ?? code}): ${firstLine(e.message)}`, {
      ...base,
      retryable: true,
    });
  }
  return new RemoteError('REMOTE_FAILED', `${said}: ${firstLine(e.message)}`, { ...base, retryable: false });
}

function firstLine(message: string | undefined): string {
  return (message ?? '').split('\n')[0] ?? '';
}

/** The SDK error without its $response (sockets, agents: megabytes when serialized). */
function slim(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const e = error as Error & { Code?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  return Object.assign(new Error(e.message), {
    name: e.name,
    ...(e.Code ? { Code: e.Code } : {}),
    ...(e.code ? { code: e.code } : {}),
    ...(e.$metadata?.httpStatusCode ? { httpStatusCode: e.$metadata.httpStatusCode } : {}),
  });
}
