import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { tempSibling } from './temp-sibling.ts';

/**
 * Replace `path` with `data` so that a reader (or a crash) sees either the old file or the
 * new one, never a torn one: write a temp file in the same directory, fsync it, rename it
 * over, fsync the directory. Idempotent: writing the same data twice leaves the same file.
 */
export async function writeFileAtomic(
  path: string,
  data: Buffer | string,
  options: { mode?: number } = {},
): Promise<void> {
  const tmp = tempSibling(path);
  const handle = await open(tmp, 'wx', options.mode ?? 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(tmp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
  await fsyncDir(dirname(path));
}

/** Make a rename or a new entry in `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
