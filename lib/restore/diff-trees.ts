import { join } from 'node:path';
import { glob } from 'tinyglobby';
import { sha256File } from '../checksum/index.ts';
import type { RestoreScope } from './restore-scope.ts';

export interface TreeDiff {
  /** In the restored sandbox, not in the live tree: a restore would create them. */
  added: { path: string; sha256: string }[];
  /** In the live tree, not in the sandbox: data the backup does not hold. */
  removed: { path: string; sha256: string }[];
  changed: { path: string; liveSha256: string; restoredSha256: string }[];
  unchanged: number;
}

/** The weekly test restore's answer: how the live tree differs from what the backup restores, file by file, within the scope. */
export async function diffTrees(scope: Pick<RestoreScope, 'paths'>, live: string, restored: string): Promise<TreeDiff> {
  const [a, b] = await Promise.all([scopeFiles(scope, live), scopeFiles(scope, restored)]);
  const diff: TreeDiff = { added: [], removed: [], changed: [], unchanged: 0 };
  for (const [path, sha] of b) {
    const liveSha = a.get(path);
    if (liveSha === undefined) diff.added.push({ path, sha256: sha });
    else if (liveSha !== sha) diff.changed.push({ path, liveSha256: liveSha, restoredSha256: sha });
    else diff.unchanged += 1;
  }
  for (const [path, sha] of a) if (!b.has(path)) diff.removed.push({ path, sha256: sha });
  return diff;
}

async function scopeFiles(scope: Pick<RestoreScope, 'paths'>, root: string): Promise<Map<string, string>> {
  const patterns = scope.paths.flatMap((p) => (p.endsWith('/') ? [`${p}**`] : [p, `${p}/**`]));
  const files = (await glob(patterns, { cwd: root, dot: true, onlyFiles: true, followSymbolicLinks: false, ignore: ['**/.ark-restore*', '.ark-restore*'] })).sort();
  const out = new Map<string, string>();
  for (const file of files) out.set(file, (await sha256File(join(root, file))).sha256);
  return out;
}
