import { join } from 'node:path';
import type { FaultContext } from './fault.ts';

/** Where a fault's `in` + `path` points: the Arkalia root, the backup folder, or the workspace. */
export function faultPath(ctx: FaultContext, where: 'root' | 'backup' | 'work', path: string): string {
  const base = where === 'root' ? ctx.root : where === 'backup' ? ctx.backupDir : ctx.work;
  if (base === undefined) throw new Error('this drill has no workspace ({work})');
  return join(base, expandIn(ctx, path));
}

export function expandIn(ctx: FaultContext, text: string): string {
  return ctx.expand ? ctx.expand(text) : text;
}
