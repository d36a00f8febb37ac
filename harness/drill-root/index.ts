// The drill's Arkalia root: the sample shipped in sample/, or the operator's own tree
// (`npm run drill -- --root-from DIR`, env ARK_DRILL_ROOT), checked before anything starts and
// copied fresh for each drill. The source is only read. Handled: a source that is missing, not
// a folder, not an Arkalia root, unreadable, or holding links that lead out of the tree (each
// refused by name, exit 2); sockets and devices (not copied); files that vanish mid-copy from a
// live installation (skipped, named); secrets files (.env) kept private (0600) in the copy.
export { checkArkaliaRoot, COMPOSE_FILES, type ArkaliaRootFacts } from './check-arkalia-root.ts';
export { copyArkaliaRoot, isSecretsFile, type CopiedRoot } from './copy-arkalia-root.ts';
export { describeRootSource, drillRootSource } from './drill-root-source.ts';
