import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { z } from 'zod';
import { defineFault, type FaultContext, type InjectedFault } from './fault.ts';
import { killStack, startIfStopped } from './service-state.ts';
import { stashAway, type Stashed } from './stash.ts';

/** The disk holding the Arkalia root and the local backups is gone (the stack's containers killed with it); only {work} (offsite, keys) remains. */
const schema = z.strictObject({
  kind: z.literal('lose-disk'),
  /**
   * A new host: Docker's storage went with the disk, so the stack's containers are removed
   * too, and the images the stack's repository builds (ark-<run>-*); the stand-in base stays,
   * like a base image a build can start FROM.
   */
  new_host: z.boolean().default(false),
});

export const loseDiskFault = defineFault({ kind: 'lose-disk', schema, needsStack: false, inject: injectLoseDisk });

type LoseDisk = z.infer<typeof schema>;

/**
 * The disk holding the Arkalia root and the local backups is gone. With the stack, the services
 * go down with it first: every container is SIGKILLed (a disk does not warn), so none keeps a
 * moved folder alive through its bind mount. Then everything in both folders (the folders
 * themselves stay, empty, as a fresh disk mounted in the same place) is moved to a hidden
 * folder of the workspace. Only {work} (the offsite copy, the offline keys) remains. The
 * stopped containers are what a recovery finds on the host: Docker resolves their bind sources
 * by path again when they are started.
 * Revert moves everything back where a recovery has not put something in its place, then
 * starts the containers a recovery did not start.
 */
export async function injectLoseDisk(fault: LoseDisk, ctx: FaultContext): Promise<InjectedFault> {
  const killed: Dockerode.Container[] = await killStack(ctx);
  const removed = fault.new_host ? await removeStack(killed, ctx) : null;
  const stashed: Stashed[] = [];
  const revert = async () => {
    for (const s of [...stashed].reverse()) await s.putBack();
    if (!removed) for (const container of killed) await startIfStopped(container);
  };
  try {
    for (const dir of [ctx.root, ctx.backupDir]) {
      for (const name of (await readdir(dir).catch(() => [] as string[])).sort())
        stashed.push(await stashAway(join(dir, name), ctx, 'lost-disk'));
    }
  } catch (error) {
    await revert();
    throw error;
  }
  return {
    kind: fault.kind,
    description: `lost the disk: ${killed.length > 0 ? `${killed.length} container(s) killed with it, ` : ''}${removed ? `a new host: the containers removed, and the image(s) ${removed.join(', ') || '(none)'}; ` : ''}${stashed.length} entries of the root and the backup folder are gone (kept aside in the workspace)`,
    revert,
  };
}

/** The containers removed, then the images only the stack's repository builds (ark-<run>-…). Returns the images removed. */
async function removeStack(containers: readonly Dockerode.Container[], ctx: FaultContext): Promise<string[]> {
  if (!ctx.stack) return [];
  const images = new Set<string>();
  for (const container of containers) {
    const info = await container.inspect().catch(() => null);
    if (info?.Config.Image.startsWith(`ark-${ctx.stack.runId}-`)) images.add(info.Config.Image);
    await container.remove({ force: true, v: true });
  }
  const { default: Dockerode } = await import('dockerode');
  const docker = new Dockerode();
  for (const image of images) await docker.getImage(image).remove({ force: true });
  return [...images];
}
