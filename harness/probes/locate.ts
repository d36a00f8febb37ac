import { join } from 'node:path';
import type { ProbeContext } from './probe-context.ts';

/** Where a scenario path lives: the Arkalia root, the backup folder, or the drill's workspace. */
export type Location = 'root' | 'backup' | 'work';

/** The folder of a location in this drill. */
export function locationDir(ctx: Pick<ProbeContext, 'root' | 'backupDir' | 'work'>, where: Location): string {
  if (where === 'root') return ctx.root;
  if (where === 'backup') return ctx.backupDir;
  if (ctx.work === undefined) throw new Error('this drill has no workspace ({work})');
  return ctx.work;
}

/** A probe's path with its placeholders expanded, joined to its location's folder. */
export function locate(ctx: ProbeContext, where: Location, path: string): string {
  return join(locationDir(ctx, where), expand(ctx, path));
}

export function expand(ctx: Pick<ProbeContext, 'expand'>, text: string): string {
  return ctx.expand ? ctx.expand(text) : text;
}
