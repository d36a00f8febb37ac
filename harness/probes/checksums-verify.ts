import { execFile } from 'node:child_process';
import { basename, dirname } from 'node:path';
import { promisify } from 'node:util';
import { locate, type Location } from './locate.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';

const run = promisify(execFile);

/** GNU `sha256sum -c --strict` of a checksum file, in its folder (an offsite SHA256SUMS verifies without any key). */
export async function checksumsVerify(input: { in: Location; file: string }, ctx: ProbeContext): Promise<ProbeResult> {
  const probe = `checksums-verify ${input.in}:${input.file}`;
  const path = locate(ctx, input.in, input.file);
  return run('sha256sum', ['-c', '--strict', basename(path)], { cwd: dirname(path) }).then(
    ({ stdout }) => {
      const lines = stdout.trim().split('\n').filter(Boolean);
      return { probe, ok: lines.length > 0, detail: lines.length > 0 ? `${lines.length} file(s) OK` : 'the checksum file lists nothing' };
    },
    (e: { stdout?: string; stderr?: string; code?: string | number }) => ({ probe, ok: false, detail: `${e.code === 'ENOENT' ? 'no such folder' : ''}${e.stdout ?? ''}${e.stderr ?? ''}`.trim().slice(0, 400) }),
  );
}
