// state: TOML validation (strict UTF-8, like toml.load) and atomic writes
// (tmp + fsync + rename + fsync dir). Failures: invalid files are reported, never thrown.
export { linkOrCopy } from './link-or-copy.ts';
export { parseToml, TomlSyntaxError, validateToml, type TomlCheck } from './validate-toml.ts';
export { writeFileAtomic, fsyncDir } from './write-file-atomic.ts';
export { tempSibling, TEMP_SIBLING, TEMP_SIBLING_TMP } from './temp-sibling.ts';
export { startWriteback, syncFiles, type SyncMethod } from './sync-files.ts';
export { TomlCheckPool, type InvalidToml } from './toml-check-pool.ts';
export { readAgain, type SeenFile } from './settle-read.ts';
export { assertSpace, formatBytes, spaceAt, type SpaceNeed, type SpaceOnDisk } from './free-space.ts';
