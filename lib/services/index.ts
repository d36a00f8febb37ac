// services: stop / start / health-check / logs of Arkalia services, via Docker Compose
// (`compose`: started with `docker compose up -d --no-deps`, which recreates a container that
// is gone), Docker by container name (`docker`, dockerode) or not at all (`none`); groups
// started in order, each gated on health; every running writer of a path found by its bind
// mounts; the API check; the bind-mount folders a rebuilt root lacks. Failures: engine
// unreachable, Compose CLI missing, no such container, health timeout (named, with the
// timeout), later groups not started.
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
export { findWriters, type RunningContainer, type Writer } from './find-writers.ts';
export { bootSandbox, sandboxComposeDocument, BOOT_LABEL, type BootReport } from './boot-sandbox.ts';
export {
  buildImages,
  composeController,
  composeArgs,
  composeCliVersion,
  dockerCli,
  type DockerCli,
} from './compose-controller.ts';

import { ServiceError, UsageError } from '../errors.ts';
import { dockerController } from './docker-controller.ts';
import { noneController } from './none-controller.ts';
import type { ServiceController } from './service-controller.ts';

import type { ComposeProject } from '../compose/index.ts';
import { composeCliVersion, composeController, type DockerCli } from './compose-controller.ts';

export type ServicesKind = 'compose' | 'docker' | 'none';

export interface ChosenController {
  controller: ServiceController;
  kind: ServicesKind;
  /** Why this kind, for the operator ("compose: docker compose 2.26.1, /srv/arkalia/docker-compose.yml"). */
  why: string;
}

/**
 * `--services KIND`, or (none given) compose when there is a compose file and the Compose v2
 * CLI, else docker. `compose` asked for without a compose file is a usage error (exit 2);
 * without the CLI, a ServiceError that says what to install (exit 1).
 */
export async function chooseServiceController(
  kind: string | undefined,
  context: { compose: ComposeProject | null; composeHint: string; cli?: DockerCli },
): Promise<ChosenController> {
  if (kind === 'none')
    return { controller: noneController, kind: 'none', why: 'services not managed (--services none)' };
  if (kind === 'docker')
    return { controller: dockerController(), kind: 'docker', why: 'containers by name (--services docker)' };
  if (kind !== undefined && kind !== 'compose')
    throw new UsageError(`--services must be "compose", "docker" or "none", got ${JSON.stringify(kind)}`);
  const { compose } = context;
  if (!compose) {
    if (kind === 'compose')
      throw new UsageError(
        `--services compose needs a compose file, and there is none (${context.composeHint}): give --compose FILE`,
      );
    return {
      controller: dockerController(),
      kind: 'docker',
      why: `containers by name: no compose file (${context.composeHint})`,
    };
  }
  const version = await composeCliVersion(context.cli);
  if (version === null) {
    if (kind === 'compose') throw composeCliMissing();
    return {
      controller: dockerController(),
      kind: 'docker',
      why: `containers by name: the Docker Compose v2 CLI is not installed, so containers that are gone cannot be created (install the docker compose plugin, or pass --services docker to silence this)`,
    };
  }
  return {
    controller: composeController({ compose, ...(context.cli ? { cli: context.cli } : {}) }),
    kind: 'compose',
    why: `docker compose ${version}, ${compose.file} (project ${compose.project})`,
  };
}

export function composeCliMissing(): ServiceError {
  return new ServiceError(
    'COMPOSE_CLI_MISSING',
    'the Docker Compose v2 CLI (`docker compose`) is not installed: install the docker compose plugin (Debian 13 / Ubuntu: the docker-compose package; Docker: docker-compose-plugin), or use --services docker',
  );
}
