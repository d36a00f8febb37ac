import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../lib/testing.ts';
import { loadScenarios, SCRIPT_NAMES, selectByTags, SCHEDULE_TAGS } from './index.ts';

const scenarios = [
  { id: 'a', tags: ['daily', 'backup'] },
  { id: 'b', tags: ['weekly', 'state'] },
  { id: 'c', tags: ['weekly', 'backup'] },
  { id: 'd', tags: ['monthly', 'disaster'] },
];

describe('selectByTags', () => {
  it('selects a tag, and the union of several, in scenario order', () => {
    expect(selectByTags(scenarios, ['weekly']).map((s) => s.id)).toEqual(['b', 'c']);
    expect(selectByTags(scenarios, ['backup', 'monthly']).map((s) => s.id)).toEqual(['a', 'c', 'd']);
  });

  it('rejects an unknown tag (exit 2), listing the known ones', () => {
    expect(() => selectByTags(scenarios, ['weekly', 'yearly'])).toThrow(
      expect.objectContaining({
        exitCode: 2,
        message: 'unknown tag yearly; known tags: backup, daily, disaster, monthly, state, weekly',
      }),
    );
  });
});

describe('npm run drill --tag', () => {
  it('rejects an unknown tag before anything runs: exit 2, the known tags listed', async () => {
    const result = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'harness/drill.ts', '--tag', 'weekly', '--tag', 'yearly'],
      { cwd: REPO_ROOT },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown tag yearly; known tags: .*\bdaily\b.*\bmonthly\b.*\bweekly\b/);
    expect(result.stderr).not.toMatch(/drill\(s\):/); // nothing was selected, nothing started
  });
});

describe('the shipped scenarios', async () => {
  const shipped = await loadScenarios();

  it('each has exactly one schedule tag (daily, weekly, monthly) and at least one area tag', () => {
    for (const s of shipped) {
      const schedule = s.tags.filter((t) => (SCHEDULE_TAGS as readonly string[]).includes(t));
      expect(schedule, `${s.id}: ${s.tags.join(', ')}`).toHaveLength(1);
      expect(s.tags.length, `${s.id}: no area tag`).toBeGreaterThan(1);
    }
  });

  it('together run every operator script the drills know, as setup, recovery or a killed script', async () => {
    const used = new Set(
      shipped.flatMap((s) => [
        ...s.setup.flatMap((r) => ('script' in r ? [r.script] : [])),
        s.recovery.script,
        ...s.faults.flatMap((f) => (f.kind === 'kill-script' ? [f.script] : [])),
      ]),
    );
    expect(SCRIPT_NAMES.filter((name) => !used.has(name))).toEqual([]);
    // An operator script added to scripts/ must join the drill language. Not drilled: tools that
    // touch no Arkalia data (verify-evidence checks audit evidence; schedule prints cron/systemd
    // units; bench times backups of a generated corpus; list only reads a backup folder's listing).
    const notData = new Set(['verify-evidence', 'schedule', 'bench', 'list']);
    const onDisk = (await readdir(join(REPO_ROOT, 'scripts')))
      .filter((f) => f.endsWith('.mts'))
      .map((f) => f.replace(/\.mts$/, ''));
    expect(onDisk.filter((name) => !notData.has(name) && !(SCRIPT_NAMES as readonly string[]).includes(name))).toEqual(
      [],
    );
  });

  it('are at least 15', () => {
    expect(shipped.length).toBeGreaterThanOrEqual(15);
  });
});
