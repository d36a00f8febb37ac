// Test helpers for faults: a drill-like context on a temp copy of the sample root.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Buffer } from '../../lib/checksum/index.ts';
import { copyFixture, tempDir, treeContents } from '../../lib/testing.ts';
import { expandPlaceholders } from '../scenario/index.ts';
import type { FaultContext } from './fault.ts';

/** Root (a copy of the sample), backup folder and workspace, as run-scenario.ts makes them; no stack. */
export async function faultContext(): Promise<Required<Omit<FaultContext, 'stack'>> & { stack: null }> {
  const root = await copyFixture();
  const backupDir = await tempDir('ark-fault-backups-');
  const work = await tempDir('ark-fault-work-');
  await mkdir(join(work, 'offsite'));
  return {
    root,
    backupDir,
    work,
    stack: null,
    expand: (text) => expandPlaceholders(text, { root, backup: backupDir, work, now: new Date() }),
  };
}

/** sha256 of everything under the root and the backup folder (not the workspace, where faults stash). */
export async function wholeTree(ctx: { root: string; backupDir: string }): Promise<Map<string, string>> {
  // Hashes, not Buffers: deep-comparing megabytes of Buffers through the reporter's matchers is slow.
  const out = new Map<string, string>();
  for (const [k, v] of await treeContents(ctx.root)) out.set(`root/${k}`, sha256Buffer(v));
  for (const [k, v] of await treeContents(ctx.backupDir)) out.set(`backup/${k}`, sha256Buffer(v));
  return out;
}
