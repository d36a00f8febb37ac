import { UsageError } from '../errors.ts';
import { localRemote } from './local-remote.ts';
import type { OffsiteTarget } from './parse-target.ts';
import type { Remote } from './remote.ts';
import type { SshOptions } from './ssh-command.ts';

/**
 * The Remote for a parsed target, configured from the environment (passed in; read once,
 * here). Secrets (S3 keys) come only from the environment and are never part of `target`.
 *
 *   rsync: ARK_SSH_PORT, ARK_SSH_KEY (private key file), ARK_SSH_KNOWN_HOSTS (known_hosts file)
 *   s3:    ARK_S3_ENDPOINT, else AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL (none: AWS itself);
 *          AWS_REGION / AWS_DEFAULT_REGION (default us-east-1); AWS_ACCESS_KEY_ID,
 *          AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN. A custom endpoint uses path-style
 *          addressing (http://host/bucket/key), which every S3-compatible store accepts.
 */
export async function openRemote(target: OffsiteTarget, env: NodeJS.ProcessEnv = process.env): Promise<Remote> {
  // Backends load on demand: the AWS SDK alone costs half a second of start-up.
  switch (target.kind) {
    case 'local':
      return localRemote(target.path);
    case 'rsync':
      const ssh = sshOptionsFromEnv(env);
      const { rsyncRemote } = await import('./rsync-remote.ts');
      return rsyncRemote({ target, ssh });
    case 's3': {
      const endpoint =
        nonEmpty(env.ARK_S3_ENDPOINT) ?? nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL);
      if (endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(endpoint))
        throw new UsageError(
          `the S3 endpoint must be an http(s) URL, got ${JSON.stringify(endpoint)} (ARK_S3_ENDPOINT / AWS_ENDPOINT_URL)`,
        );
      const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
      const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
      if (!accessKeyId || !secretAccessKey)
        throw new UsageError(
          'S3 credentials missing: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment (never on the command line)',
        );
      const sessionToken = nonEmpty(env.AWS_SESSION_TOKEN);
      const { s3Remote } = await import('./s3-remote.ts');
      return s3Remote({
        bucket: target.bucket,
        prefix: target.prefix,
        client: {
          region: nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? 'us-east-1',
          credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
          ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
        },
      });
    }
  }
}

export function sshOptionsFromEnv(env: NodeJS.ProcessEnv): SshOptions {
  const port = nonEmpty(env.ARK_SSH_PORT);
  if (port !== undefined && !(/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535))
    throw new UsageError(`ARK_SSH_PORT must be a port number (1-65535), got ${JSON.stringify(port)}`);
  const key = nonEmpty(env.ARK_SSH_KEY);
  const knownHosts = nonEmpty(env.ARK_SSH_KNOWN_HOSTS);
  for (const [name, value] of [
    ['ARK_SSH_KEY', key],
    ['ARK_SSH_KNOWN_HOSTS', knownHosts],
  ] as const) {
    if (value !== undefined && /['"\\\n]/.test(value))
      throw new UsageError(`${name} must not contain quotes or backslashes`);
  }
  return {
    ...(port ? { port: Number(port) } : {}),
    ...(key ? { identityFile: key } : {}),
    ...(knownHosts ? { knownHostsFile: knownHosts } : {}),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
