import { expect, it } from 'vitest';
import { describeSweep, recoverSystem, sweepRestore } from '../io-faults/index.ts';

// The even EIO indices of disaster-recovery.sweep.test.ts's sweep (run in parallel with it).

it('disaster recovery under I/O faults (even EIO calls): as before or as restored, a named error, the next run succeeds', {
  timeout: 900_000,
}, async () => {
  const result = await sweepRestore(
    'disaster-recovery (2 of 2)',
    recoverSystem,
    (code, nth) => code === 'EIO' && nth % 2 === 0,
  );
  console.log(describeSweep(result));
  expect(result.injected).toBeGreaterThan(8);
});
