import { open } from 'node:fs/promises';
import { tempSibling, TEMP_SIBLING_TMP } from '../state/index.ts';

// Work-in-progress files of encrypted/ end in .tmp (lib/state's temp-sibling names): the
// runbook's rsync already excludes "*.tmp", and a later run can tell a crashed writer's
// leftovers (dead pid) from a live one's.

export const TEMP_PATTERN = TEMP_SIBLING_TMP;

export function tempPathFor(target: string, pid = process.pid): string {
  return tempSibling(target, { endsWithTmp: true, pid });
}

/** Make a file's content durable before it is renamed into place. */
export async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
