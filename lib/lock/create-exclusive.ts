import { link, open, rm } from 'node:fs/promises';
import { tempSibling } from '../state/index.ts';

/**
 * Create `path` holding `content` only if nothing has that name; true when created, false when
 * it already existed. Atomic and never half-written: the content goes to a unique temporary
 * file first, which is then hard-linked to `path` (link(2) fails with EEXIST if the name
 * exists, also over NFS). On a file system without hard links (exFAT, some FUSE mounts) it
 * falls back to O_CREAT|O_EXCL and then writes, where a crash can leave an empty file: a
 * reader reports such a file instead of guessing (see readLockFile).
 */
export async function createExclusive(path: string, content: string): Promise<boolean> {
  const tmp = tempSibling(path);
  await writeSynced(tmp, content);
  try {
    await link(tmp, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
  } finally {
    await rm(tmp, { force: true }).catch(() => {}); // a temp left behind is swept by the next taker (sweepLockLeftovers)
  }
  try {
    await writeSynced(path, content);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

async function writeSynced(path: string, content: string): Promise<void> {
  const handle = await open(path, 'wx', 0o644);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
