// services: stop / start / health-check / logs of Arkalia services, via Docker (dockerode)
// or not at all (`none`); groups started in the policy's order, each gated on health; the
// API check; the bind-mount folders a rebuilt root lacks, created before a start. Failures: engine unreachable, no such container, health timeout (named, with
// the timeout), later groups not started.
export {
  serviceForModule,
  serviceTarget,
  type ServiceController,
  type ServiceTarget,
  type HealthResult,
} from './service-controller.ts';
export { dockerController, type DockerApi, type DockerControllerOptions } from './docker-controller.ts';
export { noneController } from './none-controller.ts';
export { demuxDockerLogs } from './demux-docker-logs.ts';
export { serviceGroups, stopServices, startServices, type ServiceOutcome } from './start-in-order.ts';
export { checkApi, type ApiCheck } from './check-api.ts';
export { createBindSources } from './create-bind-sources.ts';

import { UsageError } from '../errors.ts';
import { dockerController } from './docker-controller.ts';
import { noneController } from './none-controller.ts';
import type { ServiceController } from './service-controller.ts';

export function serviceController(kind: string): ServiceController {
  if (kind === 'docker') return dockerController();
  if (kind === 'none') return noneController;
  throw new UsageError(`--services must be "docker" or "none", got ${JSON.stringify(kind)}`);
}
