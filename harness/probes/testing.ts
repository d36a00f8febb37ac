// Test helpers for probes: a drill-like probe context on a temp copy of the sample root.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { copyFixture, tempDir } from '../../lib/testing.ts';
import { noStack } from '../no-stack.ts';
import { expandPlaceholders } from '../scenario/index.ts';
import type { ProbeContext } from './probe-context.ts';

export async function probeContext(): Promise<ProbeContext & { work: string }> {
  const root = await copyFixture();
  const backupDir = await tempDir('ark-probe-backups-');
  const work = await tempDir('ark-probe-work-');
  await mkdir(join(work, 'offsite'));
  return {
    root,
    backupDir,
    work,
    stack: noStack(root),
    faults: [],
    snapshots: {},
    expand: (t) => expandPlaceholders(t, { root, backup: backupDir, work, now: new Date() }),
  };
}
