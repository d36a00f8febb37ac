import { expect, it } from 'vitest';
import { describeSweep, recoverSystem, sweepRestore } from '../io-faults/index.ts';

// Every file-system call of a full-system recovery failed in turn (lib/io-faults/restore-sweep.ts):
// this file ENOSPC and the odd EIO indices, disaster-recovery-part2.sweep.test.ts the even
// ones (two files run in parallel).

it('disaster recovery under I/O faults (ENOSPC, odd EIO calls): as before or as restored, a named error, the next run succeeds', {
  timeout: 900_000,
}, async () => {
  const result = await sweepRestore(
    'disaster-recovery (1 of 2)',
    recoverSystem,
    (code, nth) => code === 'ENOSPC' || nth % 2 === 1,
  );
  console.log(describeSweep(result));
  expect(result.injected).toBeGreaterThan(30);
});
