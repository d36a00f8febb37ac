import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPair } from '../../lib/crypto/index.ts';
import { writeFileAtomic } from '../../lib/state/index.ts';
import type { Fault } from '../scenario/index.ts';
import type { FaultContext, InjectedFault } from './fault.ts';
import { expandIn, faultPath } from './fault-path.ts';
import { stashAway } from './stash.ts';

type WrongKey = Extract<Fault, { kind: 'wrong-key' }>;

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
    return { kind: fault.kind, description: `${shown}: private key ${file} missing`, revert: async () => void (await stashed.putBack()) };
  }
  const original = await readFile(file);
  const other = Buffer.from((await generateKeyPair({ userId: 'Not the backup key <wrong-key@arkalia-dr.invalid>' })).privateKey);
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
  if (!/^[0-9A-F]{40}$/.test(current)) throw new Error(`${path} is a folder but not a keyring (no valid "current" file)`);
  return join(path, `${current}.sec.asc`);
}
