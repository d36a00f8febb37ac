import { z } from 'zod';
import { placeholderProblem } from './placeholders.ts';

// The building blocks of fault and probe schemas (each fault and probe file declares its own
// fields with them). This module imports no fault and no probe, so that they can import it
// and schema.ts can import their registries without an import cycle. Paths are relative to a
// location: the Arkalia root, the backup folder or the drill's workspace ({work}: keys, a
// local offsite folder). Strings may hold placeholders (placeholders.ts).

/** Any string whose placeholders are all known. */
export const placeholderString = z.string().superRefine((text, ctx) => {
  const problem = placeholderProblem(text);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** A path relative to the Arkalia root, without placeholders (the original faults and probes). */
export const relPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), {
    message: 'must be a path relative to the Arkalia root, without ".."',
  });

/** A path relative to a location (`in`), placeholders allowed. */
export const inPath = placeholderString.pipe(
  z
    .string()
    .min(1)
    .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), {
      message: 'must be a path relative to its location (in = root | backup | work), without ".."',
    }),
);

export const LOCATIONS = ['root', 'backup', 'work'] as const;
export const location = (fallback: (typeof LOCATIONS)[number]) => z.enum(LOCATIONS).default(fallback);

/** "16KiB", "1MiB", "4096": a size in bytes. */
export const byteSize = z
  .string()
  .regex(/^\d+(KiB|MiB)?$/, { message: 'a size in bytes, optionally with KiB or MiB (e.g. "16KiB")' });

export function parseByteSize(size: string): number {
  const m = /^(\d+)(KiB|MiB)?$/.exec(size)!;
  return Number(m[1]) * (m[2] === 'MiB' ? 1024 * 1024 : m[2] === 'KiB' ? 1024 : 1);
}

/** A daily backup: newest, YYYYMMDD or {date-Nd}. */
export const backupDate = placeholderString.pipe(
  z.string().regex(/^(newest|\d{8}|\{date[-+]?\d*d?\})$/, { message: 'newest, YYYYMMDD or {date-Nd}' }),
);

/** A service of the stack (its container, its state file modules/<name>/state/<name>_state.toml). */
export const serviceName = z.string().regex(/^[a-z][a-z0-9_-]*$/);

/** The operator scripts a scenario may run (setup, recovery) or kill (kill-script). */
export const SCRIPT_NAMES = [
  'full-backup',
  'emergency-restore',
  'realtime-snapshot',
  'prune',
  'encrypted-backup',
  'keys',
  'remote-sync',
  'disaster-recovery',
  'disk-recovery',
  'verify',
] as const;
