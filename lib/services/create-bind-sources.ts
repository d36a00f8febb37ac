import { mkdir, realpath, stat } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';
import type { EventSink } from '../events.ts';
import { linkAt } from '../tree/index.ts';
import type { ServiceController, ServiceTarget } from './service-controller.ts';

/**
 * Before containers start on a rebuilt root: the folders they bind-mount from inside `root`
 * that the recovery did not bring back (logs/, modules/<m>/logs/: the logs archive does not go
 * offsite) are created empty, owned like the restored files. Docker would create them too when
 * the stopped container starts again (it resolves bind sources by path), but as root: a service
 * running as the operator's user could then not write its logs there, and the operator could
 * not put files back into them. A container that does not exist yet (disk recovery on a new
 * host, where compose creates it) has the bind mounts its compose file gives. Only inside `root` (never elsewhere on the host); a folder that
 * cannot be created, or would be made through a link, is left to Docker, with a warning.
 * Idempotent. Returns what it created.
 */
export async function createBindSources(
  controller: ServiceController,
  targets: readonly ServiceTarget[],
  root: string,
  sink: EventSink,
): Promise<string[]> {
  const roots = [...new Set([resolve(root), await realpath(root).catch(() => resolve(root))])];
  const rootOf = (path: string) => roots.find((r) => path !== r && path.startsWith(r.endsWith(sep) ? r : `${r}${sep}`));
  const created: string[] = [];
  for (const target of targets) {
    // The container's mounts; a container that is gone (compose creates it) has the compose file's.
    const mounted = (await controller.bindSources?.(target)) ?? [];
    const sources = mounted.length > 0 ? mounted : (target.binds ?? []).map((b) => resolve(root, b));
    for (const source of sources) {
      const base = rootOf(source);
      if (
        base === undefined ||
        created.includes(source) ||
        (await stat(source).then(
          () => true,
          () => false,
        ))
      )
        continue;
      const link = linkAt(base, relative(base, source));
      if (link) {
        sink({
          kind: 'warning',
          code: 'BIND_SOURCE_NOT_CREATED',
          message: `did not create ${source}, which ${target.container} bind-mounts: ${link.path} is a link (to ${link.target}), never followed`,
        });
        continue;
      }
      try {
        await mkdir(source, { recursive: true });
        created.push(source);
        sink({
          kind: 'info',
          message: `created ${relative(base, source)}/ empty: ${target.container} bind-mounts it and the recovery did not restore it`,
        });
      } catch (error) {
        sink({
          kind: 'warning',
          code: 'BIND_SOURCE_NOT_CREATED',
          message: `could not create ${source}, which ${target.container} bind-mounts (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): Docker will create it, owned by root`,
        });
      }
    }
  }
  return created;
}
