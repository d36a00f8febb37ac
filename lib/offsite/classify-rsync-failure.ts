import { RemoteError, type RemoteOperation } from './remote-error.ts';

export interface RsyncFailure {
  exitCode: number | null;
  stderr: string;
  /** errno of a failed spawn (ENOENT: rsync is not installed). */
  spawnError?: string;
}

/**
 * rsync/ssh exit code and stderr (LC_ALL=C) -> RemoteError. Retryable: connection refused or
 * timed out, reset, dropped mid-transfer (rsync 10, 12, 30, 35; ssh 255). Permanent: ssh
 * authentication, unknown host key, unknown host name, permission denied, disk full, missing
 * folder. A missing file on stat/get is REMOTE_NOT_FOUND.
 */
export function classifyRsyncFailure(
  failure: RsyncFailure,
  where: { target: string; operation: RemoteOperation; name?: string },
): RemoteError {
  const base = {
    target: where.target,
    operation: where.operation,
    ...(where.name === undefined ? {} : { name: where.name }),
    details: { exit_code: failure.exitCode },
  };
  const permanent = (code: string, reason: string) => new RemoteError(code, reason, { ...base, retryable: false });
  const transient = (code: string, reason: string) => new RemoteError(code, reason, { ...base, retryable: true });
  if (failure.spawnError !== undefined) {
    return failure.spawnError === 'ENOENT'
      ? permanent(
          'REMOTE_TOOL_MISSING',
          'rsync is not installed on this machine (apt-get install rsync openssh-client)',
        )
      : permanent('REMOTE_FAILED', `cannot run rsync: ${failure.spawnError}`);
  }
  const err = failure.stderr;
  const said = lastLines(err);
  const host = where.target.replace(/:.*$/, '');

  if (
    /Permission denied \((publickey|password|keyboard-interactive|gssapi)/.test(err) ||
    /Too many authentication failures/.test(err)
  ) {
    return permanent(
      'REMOTE_AUTH_FAILED',
      `ssh authentication to ${host} failed: check ARK_SSH_KEY and the authorized_keys of that account (${said})`,
    );
  }
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known/.test(err)) {
    return permanent(
      'REMOTE_HOST_KEY',
      `the host key of ${host} is unknown or has changed: verify it and add it to known_hosts (or ARK_SSH_KNOWN_HOSTS) (${said})`,
    );
  }
  if (/Could not resolve hostname|Name or service not known/.test(err)) {
    return permanent('REMOTE_UNREACHABLE', `host name ${host} does not resolve (${said})`);
  }
  if (/Connection refused|Connection timed out|No route to host|Network is unreachable|Operation timed out/.test(err)) {
    return transient('REMOTE_UNREACHABLE', `cannot reach ${host} over ssh (${said})`);
  }
  if (/No space left on device|Disk quota exceeded/.test(err)) {
    return permanent('REMOTE_NO_SPACE', `the remote disk is full (${said}): free space there; nothing was committed`);
  }
  if (/No such file or directory \(2\)/.test(err)) {
    if (where.operation === 'stat' || where.operation === 'get' || where.operation === 'digest') {
      if (/link_stat/.test(err)) return permanent('REMOTE_NOT_FOUND', 'no such file on the remote');
    }
    return permanent('REMOTE_TARGET_MISSING', `the remote folder does not exist: create it on the host (${said})`);
  }
  if (/Permission denied \(13\)|Operation not permitted \(1\)|Read-only file system/.test(err)) {
    return permanent(
      'REMOTE_ACCESS_DENIED',
      `permission denied on the remote (${said}): check the owner and mode of the folder`,
    );
  }
  // rsync 3, "errors selecting input/output files, dirs", is what a missing destination folder
  // gives; the receiver's own line ("change_dir ... No such file or directory (2)", matched
  // above) comes over the ssh channel and, on a loaded host, is sometimes lost before rsync exits.
  if (
    failure.exitCode === 3 &&
    (where.operation === 'put' || where.operation === 'list' || where.operation === 'delete')
  ) {
    return permanent(
      'REMOTE_TARGET_MISSING',
      `the remote folder cannot be selected (rsync exit 3): create it on the host (${said})`,
    );
  }
  if (failure.exitCode !== null && [10, 12, 30, 35, 255].includes(failure.exitCode)) {
    return transient('REMOTE_TRANSIENT', `connection failed or dropped (rsync exit ${failure.exitCode}: ${said})`);
  }
  return permanent('REMOTE_FAILED', `rsync exit ${failure.exitCode}: ${said}`);
}

function lastLines(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const text = lines.slice(-2).join(' / ');
  return text.length > 300 ? `${text.slice(0, 300)}…` : text || 'no message';
}
