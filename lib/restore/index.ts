// restore: locate a backup -> verify its checksum before reading it -> extract into staging
// -> validate TOML -> preserve the live files -> swap in per file, rolling back on failure.
export { MODULE_NAME, assertModuleName } from './module-name.ts';
export { findBackups, selectBackup, type BackupRef } from './find-backups.ts';
export { stageModuleState, moduleStatePrefix, listFiles, type StagedState, type StagedFile } from './stage-module-state.ts';
export { planChanges, type FileChange, type ChangeAction } from './plan-changes.ts';
export { hashTree, preserveTree, swapIn } from './swap-in.ts';
