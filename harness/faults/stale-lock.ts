import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { currentProcess, formatLockRecord, LOCK_FILE_NAME, type LockRecord } from '../../lib/lock/index.ts';
import { defineFault, type FaultContext, type InjectedFault } from './fault.ts';

/** The backup folder's lock left by a killed run on this host, or held by another host. */
const schema = z.strictObject({ kind: z.literal('stale-lock'), holder: z.enum(['dead-process', 'other-host']) });

export const staleLockFault = defineFault({ kind: 'stale-lock', schema, needsStack: false, inject: injectStaleLock });

type StaleLock = z.infer<typeof schema>;

/**
 * The backup folder's lock is held by nobody who will ever release it. dead-process: a run on
 * this host that was killed (its pid no longer exists): the next run must break it safely.
 * other-host: a run on another machine: nobody may break it automatically. Revert removes the
 * lock only while it is still ours (same token): a lock taken since is never touched.
 */
export async function injectStaleLock(fault: StaleLock, ctx: FaultContext): Promise<InjectedFault> {
  const self = currentProcess();
  const record: LockRecord =
    fault.holder === 'dead-process'
      ? {
          ...self,
          pid: await deadPid(),
          startTicks: null,
          token: randomBytes(16).toString('hex'),
          since: new Date(Date.now() - 3_600_000).toISOString(),
          command: 'full-backup.mts (killed)',
        }
      : {
          pid: 4242,
          host: 'backup-2.arkalia.invalid',
          bootId: randomBytes(16).toString('hex'),
          pidNamespace: null,
          startTicks: null,
          token: randomBytes(16).toString('hex'),
          since: new Date().toISOString(),
          command: 'full-backup.mts',
        };
  const path = join(ctx.backupDir, LOCK_FILE_NAME);
  const text = formatLockRecord(record);
  await writeFile(path, text, { flag: 'wx' });
  return {
    kind: fault.kind,
    description: `${path} held by pid ${record.pid} on ${record.host}${fault.holder === 'dead-process' ? ' (that process is dead)' : ' (another host)'}`,
    async revert() {
      if ((await readFile(path, 'utf8').catch(() => null)) === text) await rm(path, { force: true });
    },
  };
}

/** The pid of a process that has just exited: certainly not running. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}
