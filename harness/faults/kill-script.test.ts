import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { injectFault } from './index.ts';
import { faultContext } from './testing.ts';

// Real operator scripts, as subprocesses (a few seconds each on a busy machine).
describe('kill-script fault', () => {
  it('SIGKILLs full-backup as soon as its partial folder fills: no backup published, the partial and the lock left behind', async () => {
    const ctx = await faultContext();
    const fault = await injectFault(
      {
        kind: 'kill-script',
        script: 'full-backup',
        args: ['--date', '{date}'],
        when: { in: 'backup', glob: 'daily/.arkalia_*.partial-*/*' },
        timeout: 'PT60S',
      },
      ctx,
    );
    expect(fault.description).toMatch(
      /^full-backup --date \{date\} killed \(SIGKILL\) \d+ ms after its start, when backup:daily\/\.arkalia_\*\.partial-\*\/\* appeared$/,
    );
    const daily = await readdir(join(ctx.backupDir, 'daily'));
    expect(daily.filter((n) => n.startsWith('arkalia_'))).toEqual([]);
    expect(daily.some((n) => n.startsWith('.arkalia_'))).toBe(true);
    expect(await readdir(ctx.backupDir)).toContain('.arkalia-dr.lock');
    await fault.revert();
    await fault.revert();
  }, 90_000);

  it('fails when the script ends before the trigger: nothing was interrupted', async () => {
    const ctx = await faultContext();
    await expect(
      injectFault(
        {
          kind: 'kill-script',
          script: 'keys',
          args: ['--help'],
          when: { in: 'backup', glob: 'never-*' },
          timeout: 'PT60S',
        },
        ctx,
      ),
    ).rejects.toThrow(/keys finished \(exit 0\) before backup:never-\* appeared: nothing was killed mid-way/);
  }, 90_000);
});
