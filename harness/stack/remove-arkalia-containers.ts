import Dockerode from 'dockerode';
import { ARK_LABEL } from '../image/index.ts';
import { OWNER_LABEL, RUN_LABEL, ownerId, ownerIsGone } from './labels.ts';

export interface RemoveOptions {
  docker?: Dockerode;
  /**
   * Keep what another live process owns: only this process's objects and leftovers of
   * killed runs go, so a drill run in another terminal keeps its stack.
   */
  keepOtherLiveRuns?: boolean;
}

/**
 * Removes arkalia-dr containers (forced, whatever their state) and then networks, found
 * by label: those of `runId`, or of every run when it is undefined. Idempotent; returns
 * how many objects it removed.
 */
export async function removeArkaliaContainers(runId?: string, opts: RemoveOptions = {}): Promise<number> {
  const docker = opts.docker ?? new Dockerode();
  const filters = { label: [runId === undefined ? `${ARK_LABEL}=true` : `${RUN_LABEL}=${runId}`] };
  const keep = (labels: Record<string, string> | undefined) => {
    const owner = labels?.[OWNER_LABEL];
    return opts.keepOtherLiveRuns === true && owner !== ownerId() && !ownerIsGone(owner);
  };

  const containers = (await docker.listContainers({ all: true, filters })).filter((c) => !keep(c.Labels));
  const removedContainers = await Promise.all(
    containers.map((c) => gone(docker.getContainer(c.Id).remove({ force: true, v: true }))),
  );
  // Networks last: Docker refuses to remove one that still has containers attached.
  const networks = (await docker.listNetworks({ filters })).filter((n) => !keep(n.Labels));
  const removedNetworks = await Promise.all(networks.map((n) => gone(docker.getNetwork(n.Id).remove())));
  return [...removedContainers, ...removedNetworks].filter(Boolean).length;
}

/** true once removed by us; false when someone else removed it first (404, 409 in progress). */
async function gone(removal: Promise<unknown>): Promise<boolean> {
  try {
    await removal;
    return true;
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 404 || status === 409) return false;
    throw err;
  }
}
