import { readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { nameDiskFailure } from '../errors.ts';
import type { EventSink } from '../events.ts';
import { backupDirName, partialOwner, partialPrefix } from '../layout/index.ts';
import { processExists } from '../lock/index.ts';
import { fsyncDir } from '../state/index.ts';

// A backup is written into a hidden partial folder beside its final name and published by
// one rename (pipeline/backup.ts); what a crashed run left is cleared by the next one.

/** Rename the complete partial folder into place; a --replace keeps the old backup until the new one is there. */
export async function publish(partial: string, finalDir: string, replacing: boolean): Promise<void> {
  if (!replacing) {
    await rename(partial, finalDir); // fails (ENOTEMPTY/EEXIST) rather than clobber a backup that appeared meanwhile
  } else {
    const aside = `${partial}.replaced`;
    await rename(finalDir, aside);
    try {
      await rename(partial, finalDir);
    } catch (error) {
      await rename(aside, finalDir);
      throw error;
    }
    await rm(aside, { recursive: true, force: true });
  }
  await fsyncDir(join(finalDir, '..')).catch((error: unknown) => {
    throw nameDiskFailure(
      error,
      `${basename(finalDir)} was published, complete; only its name may not survive a power cut yet (verify --daily checks it).`,
      'syncing the backup folder',
    );
  });
}

/** Remove what crashed runs of `date` left (a set-aside --replace backup that is the only one is put back). */
export async function removeStalePartials(
  daily: string,
  date: string,
  finalDir: string,
  sink: EventSink,
): Promise<void> {
  for (const name of (await readdir(daily)).sort()) {
    if (!name.startsWith(partialPrefix(date))) continue;
    const pid = partialOwner(name);
    if (pid !== null && pid !== process.pid && processExists(pid)) continue;
    // A --replace run that died between its two renames: the set-aside old backup is the only one.
    if (
      name.endsWith('.replaced') &&
      !(await stat(finalDir).then(
        () => true,
        () => false,
      ))
    ) {
      await rename(join(daily, name), finalDir);
      await fsyncDir(daily);
      sink({
        kind: 'warning',
        code: 'REPLACED_BACKUP_RESTORED',
        message: `restored ${backupDirName(date)} from ${name}, set aside by a --replace run that crashed`,
      });
      continue;
    }
    await rm(join(daily, name), { recursive: true, force: true });
    sink({
      kind: 'warning',
      code: 'STALE_PARTIAL_REMOVED',
      message: `removed an unfinished backup left by a crashed run: ${name}`,
    });
  }
}
