import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

// Work-in-progress files sit beside their target, hidden, named after the process that writes
// them and ending in .tmp: the runbook's rsync already excludes "*.tmp", and a later run can
// tell a crashed writer's leftovers (dead pid) from a live one's.

export const TEMP_PATTERN = /^\.(.+)\.(\d+)-[0-9a-f]{8}\.tmp$/;

export function tempPathFor(target: string, pid = process.pid): string {
  return join(dirname(target), `.${basename(target)}.${pid}-${randomBytes(4).toString('hex')}.tmp`);
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
