// Test-only: prove that every file-system call a pipeline makes can fail without breaking
// its promises. FaultFs counts the calls under given folders and fails the n-th with ENOSPC,
// EIO, EACCES or EROFS (a shim of node:fs, not a seam in production code: nothing in lib/
// is written against it, so nothing can bypass it); runSweep is SQLite's sweep over them.
// Used by the *.sweep.test.ts files; production code never imports this stage.

export {
  errnoError,
  FaultFs,
  eligibleFor,
  isPersistent,
  type FaultCode,
  type FaultPlan,
  type IoCall,
} from './fault-fs.ts';
export {
  NAMED,
  namingProblem,
  describeSweep,
  fullSweep,
  runSweep,
  sweepIndices,
  type SweepResult,
  type SweepRun,
  type SweepSpec,
} from './sweep.ts';
export { copyDir, copyRoot, removeCopies, smallRoot } from './small-root.ts';
export { differences, fingerprint, sameTree } from './fingerprint.ts';
export { recoverSystem, sweepPolicy, sweepRestore, type RestoreWorld } from './restore-sweep.ts';
