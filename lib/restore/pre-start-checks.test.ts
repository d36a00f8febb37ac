import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Buffer } from '../checksum/index.ts';
import { resolvePolicy } from '../policy/index.ts';
import { tempDir } from '../testing.ts';
import { preStartChecks } from './pre-start-checks.ts';

async function root(files: Record<string, string>): Promise<string> {
  const dir = await tempDir('ark-prestart-');
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

const tomlCheck = async (dir: string, validated?: Map<string, string>) =>
  (
    await preStartChecks({
      root: dir,
      policy: resolvePolicy({}, 'built-in'),
      knownInvalid: new Set(),
      ...(validated ? { validated } : {}),
    })
  ).find((c) => c.check === 'toml-valid');

describe('preStartChecks: toml-valid', () => {
  const broken = 'state = {[}\n';

  it('parses every state file; one the restore validated is trusted only while it holds exactly the validated bytes', async () => {
    const dir = await root({
      'state/a.toml': 'a = 1\n',
      'state/b.toml': broken,
      'version.toml': 'current_version = "2.8.0"\n',
    });
    expect(await tomlCheck(dir)).toMatchObject({ ok: false, detail: expect.stringContaining('state/b.toml') });
    // Changed since it was validated (a different sha256): parsed again, and caught.
    expect(await tomlCheck(dir, new Map([['state/b.toml', sha256Buffer('b = 2\n')]]))).toMatchObject({
      ok: false,
      detail: expect.stringContaining('state/b.toml'),
    });
    // The very bytes the restore validated are not parsed twice (here a stand-in: the check trusts the restore's own validation).
    expect(await tomlCheck(dir, new Map([['state/b.toml', sha256Buffer(broken)]]))).toMatchObject({ ok: true });
  });
});
