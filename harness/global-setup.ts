// vitest globalSetup of the `drills` project: fails early and clearly without Docker,
// builds the service image once (so drill files never race to build it) and sweeps
// containers and networks left by killed runs, before and after the drills.
import { setTimeout as sleep } from 'node:timers/promises';
import Dockerode from 'dockerode';
import { buildStandInImage } from './image/index.ts';
import { removeArkaliaContainers } from './stack/index.ts';

export default async function setup(): Promise<() => Promise<void>> {
  const docker = new Dockerode();
  const reachable = await Promise.race([
    docker.ping().then(
      () => true,
      () => false,
    ),
    sleep(5_000).then(() => false),
  ]);
  if (!reachable) throw new Error('Docker engine not reachable: start dockerd (Linux: apt-get install docker.io)');

  // The test workers inherit this: every stack of this run is owned by this process, so
  // the sweep below spares a drill run in another terminal but not this run's leftovers.
  process.env.ARK_DR_OWNER_PID = String(process.pid);
  const sweep = () => removeArkaliaContainers(undefined, { docker, keepOtherLiveRuns: true });
  await sweep();
  await buildStandInImage({ docker });
  return async () => {
    await sweep();
  };
}
