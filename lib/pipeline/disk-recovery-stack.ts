import { mkdir } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { UsageError } from '../errors.ts';
import type { EventSink } from '../events.ts';
import { cloneRepository, type ClonedRepository } from '../restore-source/index.ts';
import { buildImages, composeCliMissing, composeCliVersion } from '../services/index.ts';
import type { ResolvedServices } from './restore-services.ts';

// disk-recovery on a new host: the runbook's `git clone` of the Arkalia repository beside the
// new root (laid into it before the state is restored over it), and its `docker-compose
// build`. Used by pipeline/disk-recovery.ts.

/** Clone the repository into a hidden folder beside the root (removed by the caller when done). */
export async function cloneBeside(
  root: string,
  repo: { url: string; ref?: string },
  sink: EventSink,
): Promise<ClonedRepository> {
  const dir = join(dirname(root), `.ark-clone-${basename(root)}-${process.pid}-${Date.now()}`);
  await mkdir(dirname(root), { recursive: true });
  sink({
    kind: 'step',
    step: 'clone',
    message: `cloning ${repo.url}${repo.ref ? ` at ${repo.ref}` : ''} (runbook: git clone)`,
  });
  const cloned = await cloneRepository({ url: repo.url, dir, ...(repo.ref ? { ref: repo.ref } : {}) });
  sink({
    kind: 'info',
    message: `cloned ${repo.url} at ${cloned.commit.slice(0, 12)}: laid into the root before its state is restored`,
  });
  return cloned;
}

/** --build: the images of the compose file (the clone's, when there is one), under the project name `up` will use. */
export async function buildStack(
  root: string,
  resolved: ResolvedServices | null,
  repository: ClonedRepository | null,
  sink: EventSink,
): Promise<{ services: string[]; ms: number }> {
  const compose = resolved?.compose;
  if (!compose)
    throw new UsageError(
      '--build needs a compose file: the repository (--clone) has none, and no --compose FILE was given',
    );
  if ((await composeCliVersion()) === null) throw composeCliMissing();
  const file = repository ? join(repository.dir, relative(root, compose.file)) : compose.file;
  sink({
    kind: 'step',
    step: 'build',
    message: `building the images of ${compose.file} (runbook: docker-compose build)`,
  });
  const built = await buildImages(compose, { file });
  sink({
    kind: 'info',
    message: `built ${built.services.join(', ') || 'nothing (no service has a build section)'} in ${(built.ms / 1000).toFixed(1)} s`,
  });
  return built;
}
