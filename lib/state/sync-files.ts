import { execFile } from 'node:child_process';
import { open } from 'node:fs/promises';

export type SyncMethod = 'syncfs' | 'fdatasync';

/**
 * Make the bytes of `files` durable before they are renamed into place: a rename is atomic
 * for the name, not for the data, and after a power cut a file renamed or linked in unsynced
 * can come back empty (XFS, btrfs; ext4 for a link, or mounted noauto_da_alloc). All the
 * files must live on the file system of `dir`. One `sync -f dir` (syncfs(2), GNU coreutils
 * ≥ 8.24, busybox ≥ 1.27) does it in one call: ~0.6 s for 5000 fresh files here, against
 * ~1.4 s for an fdatasync of each. Where `sync -f` is missing or fails, each file is
 * fdatasync'ed, eight at a time. Returns the method used.
 */
export async function syncFiles(
  dir: string,
  files: readonly string[],
  options: { syncfs?: boolean } = {},
): Promise<SyncMethod> {
  if (files.length === 0) return 'fdatasync';
  if ((options.syncfs ?? true) && (await syncFileSystem(dir))) return 'syncfs';
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const handle = await open(files[next++]!, 'r');
      try {
        await handle.datasync();
      } finally {
        await handle.close();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, files.length) }, worker));
  return 'fdatasync';
}

/**
 * Start writing back what was just written under `dir` (one `sync -f`, in a child process),
 * while the caller goes on with work that changes nothing (a restore plans its swap). It
 * guarantees nothing by itself: the durable point is still syncFiles, called afterwards, which
 * then has little left to write (~0.2 s of a 17k-file recovery's idle wait moves off the swap).
 * Never rejects: it resolves to whether `sync -f` ran and succeeded.
 */
export function startWriteback(dir: string): Promise<boolean> {
  return syncFileSystem(dir);
}

function syncFileSystem(dir: string): Promise<boolean> {
  return new Promise((resolve) =>
    execFile('sync', ['-f', dir], { timeout: 10 * 60_000 }, (error) => resolve(error === null)),
  );
}
