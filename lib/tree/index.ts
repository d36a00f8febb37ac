// Paths below an Arkalia root, resolved without following a link in any component. The live
// tree is writable by the services (bind mounts), so a link planted where a folder or a file
// should be would make a restore running as root write wherever it points, and a backup or a
// snapshot read whatever it points at. Every stage that plans, reads or writes below a root
// asks here first. Handled: a link at any component (named, with its target), a file where a
// folder should be, components that do not exist yet (fine: they will be created).
export { linkAbove, linkAt, TreeGuard, type LinkFound } from './tree-guard.ts';
export { LinkInTreeError, describeLinks } from './link-in-tree-error.ts';
export { walkNoFollow, type TreeEntry } from './walk-no-follow.ts';
export { expandNoFollow, pathMatcher, type Expansion } from './expand-no-follow.ts';
export { assertRootFolder } from './assert-root-folder.ts';
export { compileGlobSegment, type GlobSegment } from './glob-segment.ts';
