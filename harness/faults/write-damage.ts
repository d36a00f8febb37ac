import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../lib/state/index.ts';

/**
 * Write damaged bytes over a file a running service may be rewriting. The service re-reads
 * before its rename, but a write of ours landing between its check and its rename is lost
 * (the same race a real concurrent writer has), and a fault that silently did not happen
 * would fail the drill's detect phase for the wrong reason. So with a service running, check
 * after a moment that the damage is still there, and write it again if it was overwritten.
 */
export async function writeDamage(path: string, damaged: Buffer, options: { serviceRunning: boolean; settleMs?: number; attempts?: number }): Promise<void> {
  const attempts = options.serviceRunning ? (options.attempts ?? 5) : 1;
  for (let i = 0; i < attempts; i += 1) {
    await writeFileAtomic(path, damaged);
    if (!options.serviceRunning) return;
    await new Promise((r) => setTimeout(r, options.settleMs ?? 800));
    const now = await readFile(path).catch(() => null);
    if (now?.equals(damaged)) return;
  }
}
