import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFixture, tempDir } from '../lib/testing.ts';
import { takeTreeSnapshot } from './probes/index.ts';
import { runOperatorScript } from './run-operator-script.ts';
import { type ComposeStack, startComposeStack } from './stack/index.ts';

// disaster-recovery --test-mode --boot (the weekly test restore, booted): the restored
// sandbox runs as its own Compose project beside the live one, and the live stack's
// containers and files are never touched.

const docker = new Dockerode();
const runId = `boot-${randomBytes(4).toString('hex')}`;
let root: string;
let backupDir: string;
let stack: ComposeStack;

const live = async () =>
  Promise.all(
    Object.values(stack.compose.services).map(async (s) => {
      const info = await docker.getContainer(s.container).inspect();
      return { name: s.name, id: info.Id, startedAt: info.State.StartedAt, running: info.State.Running };
    }),
  );
/**
 * The live TOML files without the services' heartbeats (the live services keep writing those).
 * ZeroIA rewrites its files in place (truncate, then write): a read between the two sees an
 * empty file, so the tree is read again until no file is caught empty.
 */
const liveToml = async () => {
  const EMPTY = createHash('sha256').digest('hex');
  let lines: string[] = [];
  for (let attempt = 0; attempt < 20; attempt += 1) {
    lines = [...(await takeTreeSnapshot({ root, backup: backupDir, work: backupDir })).root]
      .filter(([rel]) => rel.endsWith('.toml'))
      .map(([rel, f]) => `${rel} ${f.withoutHeartbeat}`);
    if (!lines.some((l) => l.endsWith(` ${EMPTY}`))) return lines;
    await new Promise((r) => setTimeout(r, 50));
  }
  return lines;
};

beforeAll(async () => {
  root = await copyFixture();
  backupDir = await tempDir('ark-boot-bk-');
  stack = await startComposeStack({ root, runId, work: await tempDir('ark-boot-work-') });
  // The operator's policy: the services are the ones this stack runs from.
  await writeFile(
    join(root, 'ark.policy.toml'),
    `[compose]\nfile = "${stack.composeFile}"\nproject = "${stack.project}"\n`,
  );
  const backup = await runOperatorScript('full-backup', ['--root', root, '--backup-dir', backupDir], {
    timeoutMs: 120_000,
  });
  expect([0, 3]).toContain(backup.exitCode);
});
afterAll(async () => {
  await stack?.stop();
});

describe('disaster-recovery --test-mode --boot', () => {
  it('boots the restored sandbox as its own Compose project, healthy, records it, tears it down; the live stack is untouched', async () => {
    const before = { containers: await live(), toml: await liveToml() };
    const run = await runOperatorScript(
      'disaster-recovery',
      ['--test-mode', '--boot', '--root', root, '--backup-dir', backupDir, '--json'],
      { timeoutMs: 300_000 },
    );
    expect(run.exitCode, run.stderr).toBe(0);
    const result = run.result as {
      boot: { ok: boolean; project: string; services: { name: string; health: string; mounts: string[] }[] };
      sandbox: { dir: string; kept: boolean };
      timings: { restore_ms: number; boot_up_ms: number; boot_down_ms: number };
    };
    expect(result.boot.ok).toBe(true);
    expect(result.boot.project).not.toBe(stack.project);
    expect(result.boot.services.map((s) => [s.name, s.health]).sort()).toEqual(
      Object.keys(stack.compose.services)
        .sort()
        .map((n) => [n, 'healthy']),
    );
    // Its containers mounted the sandbox, never the live root.
    const mounts = result.boot.services.flatMap((s) => s.mounts);
    expect(mounts.length).toBeGreaterThan(0);
    for (const m of mounts) {
      expect(m.startsWith(result.sandbox.dir)).toBe(true);
      expect(m.startsWith(root)).toBe(false);
    }
    expect(result.timings.restore_ms).toBeGreaterThan(0);
    expect(result.timings.boot_up_ms).toBeGreaterThan(0);
    expect(run.stderr).toMatch(/booted as Compose project ark-boot-\S+ on the restored state: .*live stack untouched/);
    // Torn down: nothing of the boot project is left.
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`org.arkalia-dr.boot=${result.boot.project}`] },
    });
    expect(left).toEqual([]);
    // The live stack: the same containers, never restarted, still running; its TOML state as it was.
    expect(await live()).toEqual(before.containers);
    expect(before.containers.every((c) => c.running)).toBe(true);
    expect(await liveToml()).toEqual(before.toml);
  });

  it('verify --weekly --boot: the weekly checklist boots its test restore too', async () => {
    const before = await live();
    const run = await runOperatorScript(
      'verify',
      ['--weekly', '--boot', '--root', root, '--backup-dir', backupDir, '--json'],
      {
        timeoutMs: 300_000,
      },
    );
    const checks = (run.result as { checks: { check: string; status: string; detail: string; data?: any }[] }).checks;
    const restore = checks.find((c) => c.check === 'test-restore')!;
    expect(restore.status, restore.detail).toBe('ok');
    expect(restore.detail).toMatch(/booted as ark-boot-\S+ in [\d.]+ s: arkalia-api healthy/);
    expect(restore.data.boot.services).toHaveLength(6);
    expect(await live()).toEqual(before);
  });

  it('--boot without --test-mode, or without a compose file, is a usage error (exit 2) that changes nothing', async () => {
    const alone = await runOperatorScript('disaster-recovery', ['--boot', '--root', root, '--backup-dir', backupDir], {
      timeoutMs: 60_000,
    });
    expect(alone.exitCode).toBe(2);
    expect(alone.stderr).toMatch(/--boot starts what a test restore restored: it needs --test-mode/);
    const other = await copyFixture();
    await writeFile(join(other, 'ark.policy.toml'), '[compose]\nenabled = false\n');
    const none = await runOperatorScript(
      'disaster-recovery',
      ['--test-mode', '--boot', '--root', other, '--backup-dir', backupDir, '--services', 'none'],
      { timeoutMs: 60_000 },
    );
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toMatch(/--boot needs the compose file/);
  });
});
