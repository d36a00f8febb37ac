import { join } from 'node:path';
import { IntegrityError } from '../errors.ts';
import type { LinkFound } from './tree-guard.ts';

/** "modules/zeroia/state -> /elsewhere, state/sandozia -> ../x" (at most five, then how many more). */
export function describeLinks(links: readonly LinkFound[]): string {
  const shown = links.slice(0, 5).map((l) => `${l.path} -> ${l.target}`);
  return shown.join(', ') + (links.length > 5 ? `, and ${links.length - 5} more` : '');
}

/**
 * The live tree holds links where the backup has folders (or where a restore would have to
 * go through them): a restore never writes through a link, so it refuses, naming each, before
 * anything changes. Exit 3: the tree is not what it should be, and a person must look.
 */
export class LinkInTreeError extends IntegrityError {
  readonly links: readonly LinkFound[];

  constructor(root: string, links: readonly LinkFound[], what = 'the restore') {
    const first = links[0]!;
    super(
      'LINK_IN_TREE',
      `${what} refused: ${links.length === 1 ? 'a link stands' : `${links.length} links stand`} where the backup has a folder: ${describeLinks(links)} (in ${root}). ` +
        'A restore never writes through a link in the live tree, so nothing was changed. If the link is yours (the folder kept on another disk on purpose), ' +
        `restore into what it points at; if not, move it aside (mv ${join(root, first.path)} ${join(root, `${first.path}.link`)}) and run the restore again: the real folder is then restored.`,
      { details: { links: links.map((l) => ({ path: l.path, target: l.target })) } },
    );
    this.links = links;
  }
}
