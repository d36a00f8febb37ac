import { isAbsolute, resolve } from 'node:path';
import { UsageError } from '../errors.ts';

export type OffsiteTarget =
  | { kind: 'local'; path: string }
  | { kind: 'rsync'; user?: string; host: string; path: string }
  | { kind: 's3'; bucket: string; prefix: string };

/**
 * --to TARGET, as rsync reads its destination: `s3://bucket/prefix` is S3; `[user@]host:path`
 * (a colon before any slash) is rsync over ssh; anything else is a local folder. Pure.
 * Refused (exit 2): rsync daemon `host::module` and other URL schemes, a host or user that
 * could be read as an ssh option, an empty path.
 */
export function parseTarget(text: string, cwd: string = process.cwd()): OffsiteTarget {
  if (text.trim() === '') throw new UsageError('--to is empty: give a folder, user@host:/path or s3://bucket/prefix');
  if (/[\0\n\r]/.test(text)) throw new UsageError('--to contains a control character');
  if (text.startsWith('s3://')) {
    const [bucket = '', ...rest] = text.slice(5).split('/');
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
      throw new UsageError(`--to ${text}: ${JSON.stringify(bucket)} is not a valid S3 bucket name`);
    const prefix = rest.filter((p) => p !== '').join('/');
    if (prefix.split('/').some((p) => p === '.' || p === '..'))
      throw new UsageError(`--to ${text}: the prefix must not contain "." or ".." segments`);
    return { kind: 's3', bucket, prefix };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text))
    throw new UsageError(
      `--to ${text}: unsupported scheme; use a folder, user@host:/path (rsync over ssh) or s3://bucket/prefix`,
    );
  const colon = text.indexOf(':');
  const slash = text.indexOf('/');
  if (colon > 0 && (slash === -1 || colon < slash)) {
    if (text[colon + 1] === ':')
      throw new UsageError(
        `--to ${text}: rsync daemon targets (host::module) are not supported; use user@host:/path (rsync over ssh)`,
      );
    const login = text.slice(0, colon);
    const path = text.slice(colon + 1);
    const at = login.lastIndexOf('@');
    const user = at === -1 ? undefined : login.slice(0, at);
    const host = at === -1 ? login : login.slice(at + 1);
    if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(host))
      throw new UsageError(`--to ${text}: ${JSON.stringify(host)} is not a host name or IPv4 address`);
    if (user !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(user))
      throw new UsageError(`--to ${text}: ${JSON.stringify(user)} is not a user name`);
    if (path === '') throw new UsageError(`--to ${text}: give the folder on the host, e.g. ${login}:/secure/arkalia/`);
    if (path.startsWith('-')) throw new UsageError(`--to ${text}: the remote path must not start with "-"`);
    return { kind: 'rsync', ...(user === undefined ? {} : { user }), host, path };
  }
  return { kind: 'local', path: isAbsolute(text) ? resolve(text) : resolve(cwd, text) };
}
