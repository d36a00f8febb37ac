import { expect, it } from 'vitest';
import { describeSweep, sweepPolicy, sweepRestore } from '../io-faults/index.ts';
import { noneController } from '../services/index.ts';
import { emergencyRestore } from './emergency-restore.ts';

// Every file-system call of a one-module restore failed in turn (lib/io-faults/restore-sweep.ts).
it('emergency restore under I/O faults: as before or as restored, a named error, and the next run succeeds', {
  timeout: 900_000,
}, async () => {
  const result = await sweepRestore('emergency-restore', (w) =>
    emergencyRestore({
      root: w.root,
      backupDir: w.backupDir,
      module: 'zeroia',
      policy: sweepPolicy,
      services: noneController,
      sink: () => {},
    }),
  );
  console.log(describeSweep(result));
  expect(result.injected).toBeGreaterThan(30);
});
