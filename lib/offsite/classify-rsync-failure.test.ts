import { describe, expect, it } from 'vitest';
import { classifyRsyncFailure } from './classify-rsync-failure.ts';

// rsync's exit code and stderr as an operator-facing RemoteError.

const at = (operation: 'put' | 'list' | 'get') => ({ target: 'root@127.0.0.1:/srv/offsite', operation, name: 'a.gpg' });
const summary3 = 'rsync error: errors selecting input/output files, dirs (code 3) at main.c(855) [Receiver=3.5.0]';

describe('classifyRsyncFailure', () => {
  it('a missing remote folder: by the receiver line, or by exit 3 alone when that line was lost on the way', () => {
    const full = `rsync: [Receiver] change_dir#3 "/srv/offsite" failed: No such file or directory (2)\n${summary3}\n`;
    expect(classifyRsyncFailure({ exitCode: 3, stderr: full }, at('put'))).toMatchObject({
      code: 'REMOTE_TARGET_MISSING',
      retryable: false,
    });
    for (const operation of ['put', 'list'] as const)
      expect(classifyRsyncFailure({ exitCode: 3, stderr: `${summary3}\n` }, at(operation))).toMatchObject({
        code: 'REMOTE_TARGET_MISSING',
        retryable: false,
        message: expect.stringContaining('rsync exit 3'),
      });
    // Reading a file is another matter: exit 3 alone is not read as a missing folder.
    expect(classifyRsyncFailure({ exitCode: 3, stderr: `${summary3}\n` }, at('get')).code).toBe('REMOTE_FAILED');
  });

  it('permission denied stays permission denied; a dropped connection is worth a retry', () => {
    const denied = `rsync: [Receiver] mkstemp "/srv/offsite/.a.gpg.x" failed: Permission denied (13)\n${summary3}\n`;
    expect(classifyRsyncFailure({ exitCode: 3, stderr: denied }, at('put')).code).toBe('REMOTE_ACCESS_DENIED');
    expect(
      classifyRsyncFailure(
        { exitCode: 255, stderr: 'kex_exchange_identification: Connection closed by remote host\n' },
        at('put'),
      ),
    ).toMatchObject({ code: 'REMOTE_TRANSIENT', retryable: true });
  });
});
