import { stat } from 'node:fs/promises';
import { UsageError } from '../errors.ts';

/** The Arkalia root an operator named must be a folder (a link to one is fine: it is the operator's argument). UsageError, exit 2. */
export async function assertRootFolder(root: string): Promise<void> {
  const info = await stat(root).catch(() => null);
  if (!info?.isDirectory()) throw new UsageError(`Arkalia root ${root} is not a folder (use --root DIR or ARK_ROOT)`);
}
