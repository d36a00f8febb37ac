import { join } from 'node:path';
import { sha256File } from '../checksum/index.ts';
import { listFiles } from './stage-backup.ts';

/** name → sha256 of every regular file under `dir` (empty when the folder does not exist). */
export async function hashTree(
  dir: string,
  skip: (name: string) => boolean = () => false,
): Promise<Map<string, string>> {
  const files = await listFiles(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [] as string[];
    throw error;
  });
  const out = new Map<string, string>();
  for (const name of files.filter((n) => !skip(n))) out.set(name, (await sha256File(join(dir, name))).sha256);
  return out;
}
