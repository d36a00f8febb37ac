import { join } from 'node:path';
import { z } from 'zod';
import { backupDate } from '../scenario/fields.ts';
import { defineFault, type FaultContext, type InjectedFault } from './fault.ts';
import { expandIn } from './fault-path.ts';
import { stashAway } from './stash.ts';
import { listDailyBackups } from '../../lib/layout/index.ts';

/** The newest (or a dated) daily backup loses its folder, checksum file or manifest. */
const schema = z.strictObject({
  kind: z.literal('delete-backup'),
  date: backupDate.default('newest'),
  part: z.enum(['folder', 'checksums', 'manifest']).default('folder'),
});

export const deleteBackupFault = defineFault({
  kind: 'delete-backup',
  schema,
  needsStack: false,
  inject: injectDeleteBackup,
});

type DeleteBackup = z.infer<typeof schema>;

/**
 * The newest (or a dated) daily backup loses its whole folder, its checksum file or its
 * manifest. Revert puts it back only where nothing took its place and its folder still exists
 * (a prune that deleted the damaged backup is not undone).
 */
export async function injectDeleteBackup(fault: DeleteBackup, ctx: FaultContext): Promise<InjectedFault> {
  const date = await resolveBackupDate(ctx.backupDir, expandIn(ctx, fault.date));
  const dir = join(ctx.backupDir, 'daily', `arkalia_${date}`);
  const target =
    fault.part === 'folder'
      ? dir
      : join(dir, fault.part === 'checksums' ? `checksums_${date}.sha256` : `backup_manifest_${date}.json`);
  const stashed = await stashAway(target, ctx, `backup-${fault.part}`);
  return {
    kind: fault.kind,
    description: `${fault.part === 'folder' ? 'backup' : fault.part === 'checksums' ? 'checksum file of the backup' : 'manifest of the backup'} ${date} deleted (${target})`,
    revert: async () => void (await stashed.putBack()),
  };
}

/** "newest" → the newest daily backup folder's date; a YYYYMMDD must name an existing one. */
export async function resolveBackupDate(backupDir: string, wanted: string): Promise<string> {
  const { daily, backups } = await listDailyBackups(backupDir);
  const dates = backups.map((b) => b.date).sort();
  const date = wanted === 'newest' ? dates.at(-1) : dates.find((d) => d === wanted);
  if (date === undefined)
    throw new Error(
      `no daily backup ${wanted === 'newest' ? 'at all' : `of ${wanted}`} in ${daily} (has ${dates.join(', ') || 'none'})`,
    );
  return date;
}
