import { constants, copyFile, link } from 'node:fs/promises';

/** What a file system answers when it cannot make a hard link here (another device, FAT, SMB, too many links). */
const NO_LINK = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * Hard-link `source` at `target` (which must not exist): the same bytes, no new space. Where
 * the file system refuses links, copy instead (never over an existing file). Says which.
 */
export async function linkOrCopy(source: string, target: string): Promise<'link' | 'copy'> {
  try {
    await link(source, target);
    return 'link';
  } catch (error) {
    if (!NO_LINK.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    await copyFile(source, target, constants.COPYFILE_EXCL);
    return 'copy';
  }
}
