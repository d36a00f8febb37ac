import { readdir } from 'node:fs/promises';
import { glob } from 'tinyglobby';
import { z } from 'zod';
import { location, relPath } from '../scenario/fields.ts';
import { locationDir } from './locate.ts';
import { defineProbe } from './probe.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';

const schema = z.strictObject({
  probe: z.literal('no-temp-files'),
  paths: z.array(relPath).default(['.']),
  in: location('root'),
});

export const noTempFilesProbe = defineProbe({
  probe: 'no-temp-files',
  schema,
  needsStack: false,
  describe: (probe) => `no-temp-files ${probe.in === 'root' ? '' : `${probe.in}:`}${probe.paths.join(' ')}`,
  run: noTempFiles,
});

type NoTempFiles = z.infer<typeof schema>;

/** What the scripts name their work in progress (restore staging, disk-recovery work folder, rebuilt backup, upload, atomic write, partial backup). */
const TEMP_NAMES = [
  '.ark-restore-*',
  '.ark-disk-recovery-*',
  '.ark-recovering-*',
  '.ark-upload-*',
  '.*.tmp-*',
  '.arkalia_*.partial-*',
];

/** Nothing a script left half-done under the paths of a location (an interrupted run must clean up or be cleaned up). */
async function noTempFiles(probe: NoTempFiles, ctx: ProbeContext): Promise<ProbeResult> {
  const name = noTempFilesProbe.describe(probe);
  const base = locationDir(ctx, probe.in);
  const leftovers = (
    await glob(
      probe.paths.map((p) => `${p === '.' ? '' : `${p}/`}**/{${TEMP_NAMES.join(',')}}`),
      { cwd: base, dot: true, onlyFiles: false },
    )
  ).sort();
  const rootLevel = (await readdir(base)).filter((n) => /^\.ark-(restore|disk-recovery|recovering|upload)-/.test(n));
  const all = [...leftovers, ...rootLevel.filter((n) => !leftovers.includes(n) && !leftovers.includes(`${n}/`))];
  return { probe: name, ok: all.length === 0, detail: all.length === 0 ? 'none' : all.join(', ') };
}
