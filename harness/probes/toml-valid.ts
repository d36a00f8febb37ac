import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { glob } from 'tinyglobby';
import { z } from 'zod';
import { validateToml } from '../../lib/state/index.ts';
import { relPath } from '../scenario/fields.ts';
import { defineProbe } from './probe.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';

const schema = z.strictObject({
  probe: z.literal('toml-valid'),
  glob: z.union([relPath, z.array(relPath).min(1)]),
  exclude: z.array(relPath).default([]),
});

export const tomlValidProbe = defineProbe({
  probe: 'toml-valid',
  schema,
  needsStack: false,
  describe: (probe) => `toml-valid ${[probe.glob].flat().join(' ')}`,
  run: tomlValid,
});

type TomlValid = z.infer<typeof schema>;

/** Every file the glob(s) match under the root is valid TOML; matching nothing fails (a glob that finds nothing proves nothing). */
async function tomlValid(probe: TomlValid, ctx: ProbeContext): Promise<ProbeResult> {
  const name = tomlValidProbe.describe(probe);
  const files = (
    await glob([probe.glob].flat(), { cwd: ctx.root, dot: true, onlyFiles: true, ignore: probe.exclude })
  ).sort();
  const invalid: string[] = [];
  for (const file of files) {
    const check = validateToml(await readFile(join(ctx.root, file)));
    if (!check.ok) invalid.push(`${file}: ${check.reason}`);
  }
  const ok = files.length > 0 && invalid.length === 0;
  return {
    probe: name,
    ok,
    detail:
      files.length === 0
        ? 'no file matched'
        : invalid.length === 0
          ? `${files.length} file(s) valid`
          : invalid.join('; '),
  };
}
