import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../lib/state/index.ts';
import { inPath } from '../scenario/fields.ts';
import { corruptBytes } from './corrupt-toml.ts';
import { defineFault, type FaultContext, type InjectedFault } from './fault.ts';
import { expandIn } from './fault-path.ts';
import { stashAway } from './stash.ts';

/** The configuration breaks: the policy file (ark.policy.toml) or a config/*.toml corrupted, or .env missing. */
const schema = z.strictObject({
  kind: z.literal('corrupt-config'),
  target: z.enum(['policy', 'config-toml', 'env-missing']),
  path: inPath.optional(),
});

export const corruptConfigFault = defineFault({
  kind: 'corrupt-config',
  schema,
  needsStack: false,
  inject: injectCorruptConfig,
});

type CorruptConfig = z.infer<typeof schema>;

/** A typo an operator makes: a table header left unclosed. */
export const POLICY_TYPO = '\n[retention\ndaily_days = 30\n';

/**
 * The configuration breaks. policy: ark.policy.toml (or `path`) gets an unclosed table header,
 * so every script must refuse to run (exit 2) rather than guess. config-toml: a config/*.toml
 * (default config/zeroia_config.toml) gets merge-conflict markers. env-missing: .env is gone.
 * Revert restores the original only while our damage (or the gap) is still there.
 */
export async function injectCorruptConfig(fault: CorruptConfig, ctx: FaultContext): Promise<InjectedFault> {
  if (fault.target === 'env-missing') {
    const rel = expandIn(ctx, fault.path ?? '.env');
    const stashed = await stashAway(join(ctx.root, rel), ctx, 'env');
    return { kind: fault.kind, description: `${rel} missing`, revert: async () => void (await stashed.putBack()) };
  }
  const rel = expandIn(
    ctx,
    fault.path ?? (fault.target === 'policy' ? 'ark.policy.toml' : 'config/zeroia_config.toml'),
  );
  const path = join(ctx.root, rel);
  const original = await readFile(path);
  const damaged =
    fault.target === 'policy'
      ? Buffer.concat([original, Buffer.from(POLICY_TYPO)])
      : corruptBytes(original, 'conflict-markers');
  await writeFileAtomic(path, damaged);
  return {
    kind: fault.kind,
    description: `${rel}: ${fault.target === 'policy' ? 'unclosed table header (a typo)' : 'merge-conflict markers'}`,
    path: rel,
    damaged,
    async revert() {
      const now = await readFile(path).catch(() => null);
      if (now !== null && now.equals(damaged)) await writeFileAtomic(path, original);
    },
  };
}
