import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateToml } from '../../lib/state/index.ts';
import { injectFault } from './index.ts';
import { faultContext, wholeTree } from './testing.ts';

describe('corrupt-config fault', () => {
  it('policy: ark.policy.toml gets an unclosed table header; revert restores it', async () => {
    const ctx = await faultContext();
    await writeFile(join(ctx.root, 'ark.policy.toml'), '[services.zeroia]\ncontainer = "arkalia-zeroia"\n');
    const before = await wholeTree(ctx);
    const fault = await injectFault({ kind: 'corrupt-config', target: 'policy' }, ctx);
    expect(validateToml(await readFile(join(ctx.root, 'ark.policy.toml'))).ok).toBe(false);
    expect(fault.path).toBe('ark.policy.toml');
    await fault.revert();
    await fault.revert();
    expect(await wholeTree(ctx)).toEqual(before);
  });

  it('config-toml: merge-conflict markers in config/zeroia_config.toml; a fixed file is not reverted', async () => {
    const ctx = await faultContext();
    const fault = await injectFault({ kind: 'corrupt-config', target: 'config-toml' }, ctx);
    const path = join(ctx.root, 'config/zeroia_config.toml');
    expect((await readFile(path, 'utf8')).startsWith('<<<<<<< HEAD')).toBe(true);
    await writeFile(path, 'fixed = true\n');
    await fault.revert();
    expect(await readFile(path, 'utf8')).toBe('fixed = true\n');
  });

  it('env-missing: .env is gone until revert', async () => {
    const ctx = await faultContext();
    const env = await readFile(join(ctx.root, '.env'));
    const fault = await injectFault({ kind: 'corrupt-config', target: 'env-missing' }, ctx);
    await expect(stat(join(ctx.root, '.env'))).rejects.toThrow(/ENOENT/);
    await fault.revert();
    expect((await readFile(join(ctx.root, '.env'))).equals(env)).toBe(true);
  });
});
