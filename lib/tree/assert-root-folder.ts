import { stat } from 'node:fs/promises';
import { IoError, UsageError, diskFailureOf } from '../errors.ts';

/** The Arkalia root an operator named must be a folder (a link to one is fine: it is the operator's argument). UsageError, exit 2. */
export async function assertRootFolder(root: string): Promise<void> {
  const info = await stat(root).catch((error: unknown) => {
    const errno = diskFailureOf(error);
    if (errno) throw new IoError(errno, 'Nothing was changed.', { doing: `looking at the Arkalia root ${root}` });
    return null; // ENOENT, ENOTDIR: not a folder
  });
  if (!info?.isDirectory()) throw new UsageError(`Arkalia root ${root} is not a folder (use --root DIR or ARK_ROOT)`);
}
