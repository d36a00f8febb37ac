import { execFile } from 'node:child_process';
import { basename, dirname } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { inPath, location } from '../scenario/fields.ts';
import { locate, type Location } from './locate.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';
import { defineProbe } from './probe.ts';

/** GNU `sha256sum -c` of a checksum file (e.g. an offsite SHA256SUMS). */
const schema = z.strictObject({ probe: z.literal('checksums-verify'), in: location('work'), file: inPath });

export const checksumsVerifyProbe = defineProbe({
  probe: 'checksums-verify',
  schema,
  needsStack: false,
  describe: (probe) => `checksums-verify ${probe.in}:${probe.file}`,
  run: (probe, ctx) => checksumsVerify({ in: probe.in, file: probe.file }, ctx),
});

const run = promisify(execFile);

/** GNU `sha256sum -c --strict` of a checksum file, in its folder (an offsite SHA256SUMS verifies without any key). */
export async function checksumsVerify(input: { in: Location; file: string }, ctx: ProbeContext): Promise<ProbeResult> {
  const probe = `checksums-verify ${input.in}:${input.file}`;
  const path = locate(ctx, input.in, input.file);
  return run('sha256sum', ['-c', '--strict', basename(path)], { cwd: dirname(path) }).then(
    ({ stdout }) => {
      const lines = stdout.trim().split('\n').filter(Boolean);
      return {
        probe,
        ok: lines.length > 0,
        detail: lines.length > 0 ? `${lines.length} file(s) OK` : 'the checksum file lists nothing',
      };
    },
    (e: { stdout?: string; stderr?: string; code?: string | number }) => ({
      probe,
      ok: false,
      detail: `${e.code === 'ENOENT' ? 'no such folder' : ''}${e.stdout ?? ''}${e.stderr ?? ''}`.trim().slice(0, 400),
    }),
  );
}
