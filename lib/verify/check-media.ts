import { stat } from 'node:fs/promises';
import type { ChecklistOptions, Outcome } from './check-result.ts';

/**
 * Daily: the 3-2-1 rule's "2 supports différents" and its offsite copy. A warning (the exit
 * code is unchanged) when the backup folder is on the same device as the Arkalia root (one
 * disk failure loses both), and when no offsite target is configured.
 */
export async function checkMedia(options: ChecklistOptions): Promise<Outcome> {
  const [root, backups] = await Promise.all([stat(options.root), stat(options.backupDir)]);
  const problems: string[] = [];
  const sameDevice = root.dev === backups.dev;
  if (sameDevice)
    problems.push(
      `${options.backupDir} is on the same device as ${options.root} (device ${root.dev}): one disk failure loses the data and its backups; put the backup folder on another disk (3-2-1: two different media)`,
    );
  if (!options.offsite)
    problems.push('no offsite copy is configured (--offsite TARGET or ARK_OFFSITE): 3-2-1 wants one copy elsewhere');
  const data = {
    same_device: sameDevice,
    root_device: root.dev,
    backup_device: backups.dev,
    offsite: options.offsite ?? null,
  };
  if (problems.length > 0) return { status: 'warning', detail: problems.join('; '), data };
  return {
    status: 'ok',
    detail: `backups on another device than the root, offsite copy at ${options.offsite}`,
    data,
  };
}
