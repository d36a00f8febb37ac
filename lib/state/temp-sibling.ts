import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

// Files being written sit beside their target, hidden and named after the process writing
// them, so a later run tells a crashed writer's leftovers (its pid is gone) from a live one's:
//   .<name>.tmp-<pid>-<8 hex>     atomic writes, snapshots, lock files, restore copies
//   .<name>.<pid>-<8 hex>.tmp     the same, ending in .tmp, where the runbook's own rsync
//                                 (--exclude '*.tmp') may copy the folder: encrypted/

/** The one name pattern of a file being written beside `target`. */
export function tempSibling(target: string, options: { endsWithTmp?: boolean; pid?: number } = {}): string {
  const pid = options.pid ?? process.pid;
  const tag = randomBytes(4).toString('hex');
  return join(
    dirname(target),
    options.endsWithTmp ? `.${basename(target)}.${pid}-${tag}.tmp` : `.${basename(target)}.tmp-${pid}-${tag}`,
  );
}

/** `.<name>.tmp-<pid>-<8 hex>`: target name and pid in groups 1 and 2. */
export const TEMP_SIBLING = /^\.(.+)\.tmp-(\d+)-[0-9a-f]{8}$/;
/** `.<name>.<pid>-<8 hex>.tmp`: target name and pid in groups 1 and 2. */
export const TEMP_SIBLING_TMP = /^\.(.+)\.(\d+)-[0-9a-f]{8}\.tmp$/;
