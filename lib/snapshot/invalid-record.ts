import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../state/index.ts';

// Which state files the last one-shot real-time pass found invalid, and why, so that the next
// pass (cron runs one a minute) can tell a file newly invalid from one already reported: the
// every-minute job then says nothing new about a conflict-marker file that stays as it is
// (-q prints only what is new or wrong), while the exit code (3) and the
// arkalia_invalid_state_files gauge still say it every time. <backup-dir>/.arkalia-dr-invalid.json.

export const INVALID_RECORD_FILE = '.arkalia-dr-invalid.json';

const recordSchema = z.object({
  format: z.literal('arkalia-dr-invalid/1'),
  files: z.record(z.string(), z.string()),
});

/** path → reason, as the last pass recorded them; empty when absent or unreadable. */
export async function readInvalidRecord(backupDir: string): Promise<Map<string, string>> {
  try {
    const parsed = recordSchema.parse(JSON.parse(await readFile(join(backupDir, INVALID_RECORD_FILE), 'utf8')));
    return new Map(Object.entries(parsed.files));
  } catch {
    return new Map();
  }
}

/** Written only when it changes (a pass a minute should not rewrite a file a minute). */
export async function writeInvalidRecord(
  backupDir: string,
  previous: ReadonlyMap<string, string>,
  now: readonly { path: string; reason: string }[],
): Promise<void> {
  const files = Object.fromEntries([...now].sort((a, b) => (a.path < b.path ? -1 : 1)).map((i) => [i.path, i.reason]));
  const same = previous.size === now.length && now.every((i) => previous.get(i.path) === i.reason);
  if (same) return;
  await writeFileAtomic(
    join(backupDir, INVALID_RECORD_FILE),
    `${JSON.stringify({ format: 'arkalia-dr-invalid/1', files }, null, 2)}\n`,
  );
}
