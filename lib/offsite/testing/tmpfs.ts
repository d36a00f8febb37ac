import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tempDir } from '../../testing.ts';

const run = promisify(execFile);

/**
 * A small tmpfs mounted on a temp folder (root only), for "disk full" tests. Always call
 * unmount() in a finally: it unmounts (lazily if busy) and removes the folder.
 */
export async function mountTmpfs(size: string): Promise<{ dir: string; unmount(): Promise<void> }> {
  const dir = await tempDir('ark-tmpfs-');
  await run('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
  return {
    dir,
    async unmount() {
      await run('umount', [dir]).catch(() => run('umount', ['-l', dir]));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
