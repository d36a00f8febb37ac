// Whether dist/ (what `npm run build` bundles: scripts/cli/build-dist.ts) was built from the
// sources as they are now. Plain JavaScript, run before anything else: a stat per source file
// (~150), and a hash only for a file whose mtime moved (a checkout rewrites files unchanged).
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * dist/<name>.mjs when dist/build-info.json's every input still has its recorded content;
 * otherwise `{ stale }` with the first file that differs (or why the record is unusable), or
 * `{ missing: true }` when nothing was ever built.
 * @param {string} installDir the arkalia-dr folder
 * @param {string} name the entry point (`ark`, or a script's name)
 * @returns {{ entry: string } | { stale: string } | { missing: true }}
 */
export function distEntry(installDir, name) {
  let info;
  try {
    info = JSON.parse(readFileSync(join(installDir, 'dist', 'build-info.json'), 'utf8'));
  } catch (error) {
    if (error?.code === 'ENOENT') return { missing: true };
    return { stale: `dist/build-info.json is unreadable (${error?.message ?? error})` };
  }
  if (info?.version !== 1 || typeof info.inputs !== 'object' || info.inputs === null)
    return { stale: 'dist/build-info.json is from another version' };
  for (const [path, recorded] of Object.entries(info.inputs)) {
    const file = join(installDir, path);
    let now;
    try {
      now = statSync(file);
    } catch {
      return { stale: `${path} is gone` };
    }
    if (now.size !== recorded.size) return { stale: `${path} changed` };
    if (now.mtimeMs === recorded.mtimeMs) continue;
    if (createHash('sha256').update(readFileSync(file)).digest('hex') !== recorded.sha256)
      return { stale: `${path} changed` };
  }
  const entry = join(installDir, 'dist', `${name}.mjs`);
  try {
    statSync(entry);
  } catch {
    return { stale: `dist/${name}.mjs is missing` };
  }
  return { entry };
}
