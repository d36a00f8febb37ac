// The ssh command rsync runs (its -e value). Decided: port, key and known_hosts come from
// ARK_SSH_PORT, ARK_SSH_KEY and ARK_SSH_KNOWN_HOSTS (parsed at the boundary into these
// options), not from a free-form ARK_RSYNC_RSH, so that BatchMode (never prompt, cron has no
// terminal) and the timeouts below are always there. Anything else goes in ~/.ssh/config.

export interface SshOptions {
  port?: number;
  /** Private key file (ssh -i). The key never appears in argv, only its path. */
  identityFile?: string;
  /** known_hosts file to check the host key against (default: the user's). */
  knownHostsFile?: string;
  /** Seconds to wait for the TCP connection and the ssh handshake. Default 10. */
  connectTimeoutSec?: number;
}

/**
 * rsync splits its -e value on spaces itself (no shell involved) and honours single quotes,
 * so paths are single-quoted; a path containing a quote is refused rather than mangled.
 */
export function sshCommand(options: SshOptions): string {
  const quote = (value: string) => {
    if (/['"\\\n]/.test(value))
      throw new RangeError(
        `path ${JSON.stringify(value)} contains a quote or backslash, which rsync's -e cannot carry`,
      );
    return `'${value}'`;
  };
  const parts = [
    'ssh',
    '-o',
    'BatchMode=yes',
    '-o',
    `ConnectTimeout=${options.connectTimeoutSec ?? 10}`,
    '-o',
    'ServerAliveInterval=15',
    '-o',
    'ServerAliveCountMax=3',
  ];
  if (options.port !== undefined) parts.push('-p', String(options.port));
  if (options.identityFile !== undefined) parts.push('-i', quote(options.identityFile), '-o', 'IdentitiesOnly=yes');
  if (options.knownHostsFile !== undefined)
    parts.push('-o', quote(`UserKnownHostsFile=${options.knownHostsFile}`), '-o', 'StrictHostKeyChecking=yes');
  return parts.join(' ');
}
