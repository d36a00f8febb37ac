import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { describe, expect, it } from 'vitest';
import { injectFault } from './index.ts';
import { faultContext } from './testing.ts';

const FPR = 'A'.repeat(40);

async function keyring() {
  const ctx = await faultContext();
  const dir = join(ctx.work, 'keyring');
  await mkdir(dir);
  await writeFile(join(dir, 'current'), `${FPR}\n`);
  await writeFile(join(dir, `${FPR}.sec.asc`), 'the real private key\n', { mode: 0o600 });
  return { ctx, file: join(dir, `${FPR}.sec.asc`) };
}

describe('wrong-key fault', () => {
  it("replaces a keyring's current private key by another valid key (0600); revert puts the original back", async () => {
    const { ctx, file } = await keyring();
    const fault = await injectFault({ kind: 'wrong-key', in: 'work', path: 'keyring', mode: 'wrong' }, ctx);
    const other = await readFile(file, 'utf8');
    expect((await openpgp.readPrivateKey({ armoredKey: other })).getUserIDs()).toEqual([
      'Not the backup key <wrong-key@arkalia-dr.invalid>',
    ]);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await fault.revert();
    await fault.revert();
    expect(await readFile(file, 'utf8')).toBe('the real private key\n');
  });

  it('missing: the key file is gone until revert; a key put back by hand is kept', async () => {
    const { ctx, file } = await keyring();
    const fault = await injectFault(
      { kind: 'wrong-key', in: 'work', path: `keyring/${FPR}.sec.asc`, mode: 'missing' },
      ctx,
    );
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
    await fault.revert();
    expect(await readFile(file, 'utf8')).toBe('the real private key\n');

    const again = await injectFault({ kind: 'wrong-key', in: 'work', path: 'keyring', mode: 'wrong' }, ctx);
    await writeFile(file, 'fixed by the operator\n');
    await again.revert();
    expect(await readFile(file, 'utf8')).toBe('fixed by the operator\n');
  });

  it('refuses a folder that is not a keyring', async () => {
    const { ctx } = await keyring();
    await expect(injectFault({ kind: 'wrong-key', in: 'work', path: 'offsite', mode: 'wrong' }, ctx)).rejects.toThrow(
      /not a keyring/,
    );
  });
});
