import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { currentProcess, LOCK_FILE_NAME, parseLockRecord, processLiveness } from '../../lib/lock/index.ts';
import { injectFault } from './index.ts';
import { faultContext } from './testing.ts';

describe('stale-lock fault', () => {
  it('dead-process: a lock record of this host whose process is certainly dead', async () => {
    const ctx = await faultContext();
    const fault = await injectFault({ kind: 'stale-lock', holder: 'dead-process' }, ctx);
    const record = parseLockRecord(await readFile(join(ctx.backupDir, LOCK_FILE_NAME), 'utf8'))!;
    expect(processLiveness(record, currentProcess()).state).toBe('dead');
    await fault.revert();
    await expect(readFile(join(ctx.backupDir, LOCK_FILE_NAME))).rejects.toThrow(/ENOENT/);
  });

  it('other-host: never judged dead from here; revert leaves a lock taken since alone', async () => {
    const ctx = await faultContext();
    const fault = await injectFault({ kind: 'stale-lock', holder: 'other-host' }, ctx);
    const path = join(ctx.backupDir, LOCK_FILE_NAME);
    expect(processLiveness(parseLockRecord(await readFile(path, 'utf8'))!, currentProcess()).state).toBe('unknown');
    await expect(injectFault({ kind: 'stale-lock', holder: 'dead-process' }, ctx)).rejects.toThrow(/EEXIST/);
    await writeFile(path, 'a newer lock\n');
    await fault.revert();
    expect(await readFile(path, 'utf8')).toBe('a newer lock\n');
  });
});
