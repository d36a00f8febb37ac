import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { sha256File } from '../checksum/index.ts';
import { expandNoFollow, LinkInTreeError, TreeGuard, walkNoFollow, type LinkFound } from '../tree/index.ts';
import type { RestoreScope } from './restore-scope.ts';

export interface TreeDiff {
  /** In the restored sandbox, not in the live tree: a restore would create them. */
  added: { path: string; sha256: string }[];
  /** In the live tree, not in the sandbox: data the backup does not hold. */
  removed: { path: string; sha256: string }[];
  changed: { path: string; liveSha256: string; restoredSha256: string }[];
  unchanged: number;
}

/**
 * The weekly test restore's answer: how the live tree differs from what the backup restores,
 * file by file, within the scope. The live tree is read without following any link: a link
 * where a file is counts as `symlink:<target>`; a link where the backup has a folder means a
 * real restore would refuse (LinkInTreeError, exit 3), and so does the test.
 */
export async function diffTrees(scope: Pick<RestoreScope, 'paths'>, live: string, restored: string): Promise<TreeDiff> {
  const liveFiles = await scopeFiles(scope, live);
  const restoredFiles = await scopeFiles(scope, restored);
  const guard = new TreeGuard(live);
  // Only a link the backup's files would have to go through: a live link where the backup has
  // nothing (a module added since) is left alone by a real restore, so by the test too.
  const refused = new Map<string, LinkFound>();
  for (const path of restoredFiles.keys()) {
    const link = guard.linkAbove(path);
    if (link) refused.set(link.path, link);
  }
  if (refused.size > 0)
    throw new LinkInTreeError(
      live,
      [...refused.values()].sort((x, y) => (x.path < y.path ? -1 : 1)),
      `the test restore into ${restored} worked, but a real restore would be`,
    );
  const diff: TreeDiff = { added: [], removed: [], changed: [], unchanged: 0 };
  for (const [path, sha] of restoredFiles) {
    const liveSha = liveFiles.get(path);
    if (liveSha === undefined) diff.added.push({ path, sha256: sha });
    else if (liveSha !== sha) diff.changed.push({ path, liveSha256: liveSha, restoredSha256: sha });
    else diff.unchanged += 1;
  }
  for (const [path, sha] of liveFiles) if (!restoredFiles.has(path)) diff.removed.push({ path, sha256: sha });
  return diff;
}

/** The scope's files under `root`: path → sha256, or `symlink:<target>` for a link where a file is. */
async function scopeFiles(scope: Pick<RestoreScope, 'paths'>, root: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const skip = (path: string) => path.split('/').some((part) => part.startsWith('.ark-restore'));
  const add = async (path: string) => {
    if (!skip(path) && !files.has(path)) files.set(path, (await sha256File(join(root, path))).sha256);
  };
  for (const pattern of scope.paths) {
    const folder = pattern.endsWith('/');
    const depth = pattern.replace(/\/+$/, '').split('/').length;
    const { matches, links } = expandNoFollow(root, pattern.replace(/\/+$/, ''), { dot: true });
    for (const link of links) {
      // A link matching a file pattern (`.env`, `Dockerfile*`) stands where a file is; anywhere
      // else it stands for a folder, refused above only if the backup has files under it.
      if (!folder && link.path.split('/').length === depth && !skip(link.path))
        files.set(link.path, `symlink:${link.target}`);
    }
    for (const match of matches) {
      if (lstatSync(join(root, match)).isDirectory()) {
        for (const entry of walkNoFollow(root, match)) {
          if (entry.kind === 'link') {
            if (!skip(entry.path)) files.set(entry.path, `symlink:${entry.target}`);
          } else await add(entry.path);
        }
      } else if (!folder) await add(match);
    }
  }
  return new Map([...files].sort(([x], [y]) => (x < y ? -1 : 1)));
}
