import { ArkError } from '../errors.ts';
import type { Remote } from './remote.ts';

/**
 * The remote for --dry-run: reads pass through, writes throw. A dry run that tried to change
 * the remote would be a bug, and this turns that bug into a loud failure instead of a change.
 */
export function readOnly(remote: Remote): Remote {
  const refuse = (operation: string, name: string): never => {
    throw new ArkError(
      'DRY_RUN_WRITE',
      `${remote.target}: refused ${operation} ${name} during a dry run (this is a bug)`,
    );
  };
  return {
    target: remote.target,
    list: () => remote.list(),
    stat: (name) => remote.stat(name),
    get: (name) => remote.get(name),
    digest: (name) => remote.digest(name),
    put: async (name) => refuse('put', name),
    ...(remote.copy ? { copy: async (_from: string, to: string) => refuse('copy', to) } : {}),
    delete: async (name) => refuse('delete', name),
  };
}
