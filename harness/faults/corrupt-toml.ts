import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../lib/state/index.ts';
import { relPath } from '../scenario/fields.ts';
import { writeDamage } from './write-damage.ts';
import { defineFault, type FaultContext, type InjectedFault } from './fault.ts';

const schema = z.strictObject({
  kind: z.literal('corrupt-toml'),
  path: relPath,
  mode: z.enum(['conflict-markers', 'truncate', 'garbage', 'bit-flip', 'empty', 'invalid-utf8']),
});

export const corruptTomlFault = defineFault({
  kind: 'corrupt-toml',
  schema,
  needsStack: false,
  inject: injectCorruptToml,
});

type CorruptToml = z.infer<typeof schema>;

/** How each mode damages a file. Pure, so every mode is unit-tested to yield invalid TOML. */
export function corruptBytes(original: Buffer, mode: CorruptToml['mode']): Buffer {
  switch (mode) {
    case 'conflict-markers': {
      // What Arkalia's repository really held: an unresolved merge in a state file.
      const text = original.toString('utf8');
      return Buffer.from(
        `<<<<<<< HEAD\n${text}${text.endsWith('\n') ? '' : '\n'}=======\n${text.replace(/=/, '= "theirs" #')}\n>>>>>>> dev-migration\n`,
      );
    }
    case 'truncate': {
      // Cut inside the first string value so what remains cannot parse.
      const quote = original.indexOf(0x22);
      return original.subarray(0, quote >= 0 ? quote + 2 : Math.max(1, Math.floor(original.length / 2)));
    }
    case 'garbage':
      return Buffer.from('invalid toml content {[}\n\u0000\u0001 not = = toml\n');
    case 'bit-flip': {
      // Flip a bit of the first "=" so a key/value line loses its separator.
      const copy = Buffer.from(original);
      const at = copy.indexOf(0x3d);
      copy[at >= 0 ? at : 0]! ^= 0x01;
      return copy;
    }
    case 'empty':
      return Buffer.alloc(0);
    case 'invalid-utf8':
      return Buffer.concat([original, Buffer.from('\nnote = "'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"\n')]);
  }
}

/**
 * Overwrite a state file with damaged bytes (atomically, as a buggy writer would). Revert
 * puts the original back only if the file still holds our damage: a recovery that already
 * replaced it is not undone.
 */
export async function injectCorruptToml(fault: CorruptToml, ctx: FaultContext): Promise<InjectedFault> {
  const path = join(ctx.root, fault.path);
  const original = await readFile(path);
  const damaged = corruptBytes(original, fault.mode);
  await writeDamage(path, damaged, { serviceRunning: ctx.stack !== null });
  return {
    kind: fault.kind,
    description: `${fault.path}: ${fault.mode} (${original.length} → ${damaged.length} bytes)`,
    path: fault.path,
    damaged,
    async revert() {
      const now = await readFile(path).catch(() => null);
      if (now !== null && now.equals(damaged)) await writeFileAtomic(path, original);
    },
  };
}
