// Test helpers for disk recovery (not used by production code).
import { sha256Buffer } from '../checksum/index.ts';
import { treeContents } from '../testing.ts';

/** What a disk recovery must bring back byte for byte: modules/*\/state/, state/, global_state/, config/, .env. */
export function isStateFile(path: string): boolean {
  return /^modules\/[^/]+\/state\//.test(path) || /^(state|global_state|config)\//.test(path) || path === '.env';
}

/** sha256 of every state file under `root`, by relative path, sorted. */
export async function statesOf(root: string): Promise<Record<string, string>> {
  const tree = await treeContents(root);
  return Object.fromEntries(
    [...tree]
      .filter(([p]) => isStateFile(p))
      .map(([p, bytes]) => [p, sha256Buffer(bytes)] as const)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}
