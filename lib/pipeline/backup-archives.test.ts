import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { recordingSink, type ArkEvent } from '../events.ts';
import { resolvePolicy } from '../policy/index.ts';
import { copyFixture, tempDir } from '../testing.ts';
import { runFullBackup, type FullBackupOptions } from './backup.ts';

const run = promisify(execFile);
const DATE = '20260701';

/** The fixture, with a models folder (incompressible weights) and a log big enough to span many gzip blocks. */
async function fixture(): Promise<string> {
  const root = await copyFixture();
  await mkdir(join(root, 'models', 'blobs'), { recursive: true });
  await writeFile(join(root, 'models', 'blobs', 'sha256-01'), randomBytes(3 * 1024 * 1024));
  await writeFile(
    join(root, 'logs', 'arkalia.log'),
    Array.from({ length: 60_000 }, (_, i) => `2026-07-01 INFO [zeroia] cycle ${i} ok\n`).join(''),
  );
  return root;
}

async function backup(root: string, extra: Partial<FullBackupOptions> & { policyToml?: Record<string, unknown> } = {}) {
  const { policyToml, ...rest } = extra;
  const sink = recordingSink();
  const policy = resolvePolicy({ datasets: { models: { paths: ['models/'] } }, ...policyToml }, 'test');
  const backupDir = await tempDir('ark-bk-');
  const report = await runFullBackup({
    root,
    backupDir,
    date: DATE,
    policy,
    sink,
    gitCommit: async () => null,
    host: 'test',
    now: () => new Date('2026-07-01T03:00:00Z'),
    ...rest,
  });
  return { report, sink, dir: report.dir };
}

const byKind = <K extends ArkEvent['kind']>(events: ArkEvent[], kind: K) =>
  events.filter((e): e is Extract<ArkEvent, { kind: K }> => e.kind === kind);

describe('full backup: archives', () => {
  it('writes the same archives, byte for byte, several at a time as one after another', async () => {
    const root = await fixture();
    const one = await backup(root, { archiveConcurrency: 1 });
    const two = await backup(root, { archiveConcurrency: 2 });
    const all = await backup(root, {}); // the default: cores + 1 (here: every archive at once)
    const strip = (m: typeof one.report.manifest) => m!.archives!.map((a) => ({ ...a }));
    expect(strip(two.report.manifest)).toEqual(strip(one.report.manifest));
    expect(strip(all.report.manifest)).toEqual(strip(one.report.manifest));
    expect(one.report.manifest!.archives!.map((a) => a.name)).toEqual(['states', 'logs', 'models', 'infra']);
    expect(await readFile(join(two.dir, `checksums_${DATE}.sha256`), 'utf8')).toBe(
      await readFile(join(one.dir, `checksums_${DATE}.sha256`), 'utf8'),
    );
    // The invalid states are found (and named once each) either way.
    expect(two.report.invalidStates.map((s) => s.path).sort()).toEqual(
      one.report.invalidStates.map((s) => s.path).sort(),
    );
    expect(one.report.invalidStates.map((s) => s.path).sort()).toEqual([
      'state/global_context.toml',
      'state/reflexia_state.toml',
    ]);
    await run('sha256sum', ['-c', `checksums_${DATE}.sha256`], { cwd: two.dir });
  });

  it('emits throttled progress per archive, ending with done at the planned total', async () => {
    const root = await fixture();
    let clock = 0;
    const { sink } = await backup(root, { clock: () => (clock += 50) });
    const progress = byKind(sink.events, 'progress');
    const done = progress.filter((p) => p.done);
    expect(done.map((p) => p.task).sort()).toEqual([
      'archive:infra',
      'archive:logs',
      'archive:models',
      'archive:states',
    ]);
    for (const p of done) {
      expect(p.totalBytes).toBeGreaterThan(0);
      expect(p.bytesOut).toBeGreaterThan(0);
      expect(p.files).toBe(p.totalFiles);
    }
    const last = progress.at(-1)!;
    expect(last.overall!.bytes).toBe(last.overall!.totalBytes);
    // The clock advances 50 ms per reading and events are at least 250 ms apart: a handful, not one per chunk.
    const running = progress.filter((p) => !p.done);
    expect(running.length).toBeGreaterThan(0);
    for (const task of new Set(running.map((p) => p.task))) {
      const times = running.filter((p) => p.task === task).map((p) => p.elapsedMs);
      times.slice(1).forEach((t, i) => expect(t - times[i]!).toBeGreaterThanOrEqual(250));
    }
  });

  it('compression = "zstd": .tar.zst names in the checksums and manifest, readable by GNU tar', async () => {
    const root = await fixture();
    const { report, dir } = await backup(root, {
      policyToml: { archives: { logs: { compression: 'zstd' }, models: { compression: 'none' } } },
    });
    const names = (await readdir(dir)).sort();
    expect(names).toEqual([
      `arkalia_infra_${DATE}.tar.gz`,
      `arkalia_logs_${DATE}.tar.zst`,
      `arkalia_states_${DATE}.tar.gz`,
      `backup_manifest_${DATE}.json`,
      `checksums_${DATE}.sha256`,
      `ollama_models_${DATE}.tar`,
    ]);
    await run('sha256sum', ['-c', `checksums_${DATE}.sha256`], { cwd: dir });
    const logs = report.manifest!.archives!.find((a) => a.name === 'logs')!;
    const listed = (await run('tar', ['--zstd', '-tf', join(dir, logs.file)])).stdout.trim().split('\n');
    expect(logs.members).toBe(listed.length);
    expect(listed).toContain('logs/arkalia.log');
  });
});
