import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Buffer } from '../checksum/index.ts';

/** Every entry under `dir`: type, mode and, for files, the content's sha256; links by target. */
export async function fingerprint(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(dir, rel))).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const info = await lstat(join(dir, path));
      const mode = (info.mode & 0o7777).toString(8);
      if (info.isDirectory()) {
        out[`${path}/`] = mode;
        await walk(path);
      } else if (info.isSymbolicLink()) out[path] = `-> ${await readlink(join(dir, path))}`;
      else out[path] = `${mode} ${sha256Buffer(await readFile(join(dir, path)))}`;
    }
  };
  await walk('');
  return out;
}

/** The keys that differ between two fingerprints. */
export function differences(a: Record<string, string>, b: Record<string, string>): string[] {
  return Object.keys({ ...a, ...b }).filter((k) => a[k] !== b[k]);
}

export const sameTree = (a: Record<string, string>, b: Record<string, string>): boolean =>
  differences(a, b).length === 0;
