import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../lib/state/index.ts';
import { inPath, location } from '../scenario/fields.ts';
import { defineFault, type FaultContext, type InjectedFault } from './fault.ts';
import { expandIn, faultPath } from './fault-path.ts';
import { stashAway } from './stash.ts';

/** A private key (a .sec.asc file, or a keyring's current key) replaced by another key, or missing. */
const schema = z.strictObject({
  kind: z.literal('wrong-key'),
  in: location('work'),
  path: inPath,
  mode: z.enum(['wrong', 'missing']).default('wrong'),
});

export const wrongKeyFault = defineFault({ kind: 'wrong-key', schema, needsStack: false, inject: injectWrongKey });

type WrongKey = z.infer<typeof schema>;

/**
 * The private key a decryption needs is the wrong one (another valid key, same file name: a
 * mixed-up key file) or missing. `path` is a .sec.asc file, or a keyring folder (its current
 * key's private key). Revert puts the original back if our substitute (or the gap) is still there.
 */
export async function injectWrongKey(fault: WrongKey, ctx: FaultContext): Promise<InjectedFault> {
  const file = await privateKeyFile(faultPath(ctx, fault.in, fault.path));
  const shown = `${fault.in}:${expandIn(ctx, fault.path)}`;
  if (fault.mode === 'missing') {
    const stashed = await stashAway(file, ctx, 'key');
    return {
      kind: fault.kind,
      description: `${shown}: private key ${file} missing`,
      revert: async () => void (await stashed.putBack()),
    };
  }
  const original = await readFile(file);
  const { generateKeyPair } = await import('../../lib/crypto/index.ts'); // openpgp loads only for this fault
  const other = Buffer.from(
    (await generateKeyPair({ userId: 'Not the backup key <wrong-key@arkalia-dr.invalid>' })).privateKey,
  );
  await writeFileAtomic(file, other, { mode: 0o600 });
  return {
    kind: fault.kind,
    description: `${shown}: private key ${file} replaced by another key`,
    async revert() {
      const now = await readFile(file).catch(() => null);
      if (now !== null && now.equals(other)) await writeFileAtomic(file, original, { mode: 0o600 });
    },
  };
}

/** A key file as is; a keyring folder → its current key's private key file. */
async function privateKeyFile(path: string): Promise<string> {
  if (!(await stat(path)).isDirectory()) return path;
  const current = (await readFile(join(path, 'current'), 'utf8').catch(() => '')).trim();
  if (!/^[0-9A-F]{40}$/.test(current))
    throw new Error(`${path} is a folder but not a keyring (no valid "current" file)`);
  return join(path, `${current}.sec.asc`);
}
