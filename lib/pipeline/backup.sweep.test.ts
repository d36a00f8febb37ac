import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { expect, it } from 'vitest';
import { parseManifest, verifyChecksums } from '../checksum/index.ts';
import {
  copyDir,
  copyRoot,
  removeCopies,
  describeSweep,
  differences,
  fingerprint,
  namingProblem,
  runSweep,
  sameTree,
  smallRoot,
  sweepPolicy,
  type SweepRun,
} from '../io-faults/index.ts';
import { tempDir } from '../testing.ts';
import { runFullBackup } from './backup.ts';

// Every file-system call of a full backup failed in turn (lib/io-faults), ENOSPC (the disk
// stays full) and EIO (once), on a backup folder that already holds yesterday's backup, with
// one state changed since (so archives are both linked and written). After each run: nothing
// named arkalia_<DATE> unless it is complete and verifies; yesterday's backup untouched; the
// live root untouched; a named error; and the next run succeeds.

interface World {
  root: string;
  backupDir: string;
}

const DATE = '20260111';
let templates: Promise<{ root: string; backup: string; previous: Record<string, string> }> | undefined;

function worldTemplates() {
  templates ??= (async () => {
    const root = await smallRoot();
    const backup = await tempDir('ark-sweep-bk-');
    const run = { policy: sweepPolicy, sink: () => {}, gitCommit: async () => null, host: 'test' };
    await runFullBackup({ root, backupDir: backup, date: '20260110', ...run });
    await writeFile(join(root, 'modules/zeroia/state/zeroia_state.toml'), 'changed = "since yesterday"\n');
    return { root, backup, previous: await fingerprint(join(backup, 'daily', 'arkalia_20260110')) };
  })();
  return templates;
}

async function world(): Promise<World> {
  const t = await worldTemplates();
  return { root: await copyRoot(t.root), backupDir: await copyDir(t.backup) };
}

const backup = (w: World) =>
  runFullBackup({
    root: w.root,
    backupDir: w.backupDir,
    date: DATE,
    policy: sweepPolicy,
    sink: () => {},
    gitCommit: async () => null,
    host: 'test',
  });

/** Problems with a published backup: every archive listed, each verifies, the manifest reads. */
async function incomplete(dir: string): Promise<string[]> {
  const problems: string[] = [];
  const names = await readdir(dir);
  const sums = names.find((n) => n.endsWith('.sha256'));
  const manifest = names.find((n) => n.startsWith('backup_manifest_'));
  if (!sums || !manifest) return [`published without its ${sums ? 'manifest' : 'checksum file'}: ${names.join(', ')}`];
  const results = await verifyChecksums(join(dir, sums));
  for (const r of results) if (!r.ok) problems.push(`${r.name}: ${r.problem}`);
  const listed = new Set(results.map((r) => r.name));
  for (const name of names) if (name.endsWith('.tar.gz') && !listed.has(name)) problems.push(`${name} not listed`);
  const m = parseManifest(await readFile(join(dir, manifest), 'utf8'));
  for (const a of m.archives ?? [])
    if (!names.includes(a.file)) problems.push(`${a.file} in the manifest, not on disk`);
  return problems;
}

async function invariant(
  { ctx, code, error }: SweepRun<World>,
  clean: { root: Record<string, string>; previous: Record<string, string> },
): Promise<void> {
  const problems: string[] = [];
  const todays = join(ctx.backupDir, 'daily', `arkalia_${DATE}`);
  const published = await stat(todays).then(
    () => true,
    () => false,
  );
  if (published) problems.push(...(await incomplete(todays)).map((p) => `arkalia_${DATE} looks complete but ${p}`));
  const previous = differences(await fingerprint(join(ctx.backupDir, 'daily', 'arkalia_20260110')), clean.previous);
  if (previous.length > 0) problems.push(`yesterday's backup changed: ${previous.join(', ')}`);
  if (!sameTree(await fingerprint(ctx.root), clean.root)) problems.push('the live root changed');
  const naming = namingProblem(code, error);
  if (naming) problems.push(naming);
  if (!published) {
    // The fault is gone: the same command succeeds, with no manual step, and publishes a complete backup.
    const again = await backup(ctx).then(
      () => null,
      (e: unknown) => e,
    );
    if (again !== null) problems.push(`the next run failed: ${again instanceof Error ? again.message : String(again)}`);
    else problems.push(...(await incomplete(todays)).map((p) => `the next run's backup: ${p}`));
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
}

it('full backup under I/O faults: nothing incomplete published, yesterday untouched, a named error, the next run succeeds', {
  timeout: 900_000,
}, async () => {
  const t = await worldTemplates();
  const clean = { root: await fingerprint(t.root), previous: t.previous };
  const result = await runSweep<World>({
    name: 'full-backup',
    codes: ['ENOSPC', 'EIO'],
    setup: world,
    scopes: (w) => [dirname(w.root), w.backupDir],
    teardown: (w) => removeCopies(w.root, w.backupDir),
    run: backup,
    check: (run) => invariant(run, clean),
  });
  console.log(describeSweep(result));
  expect(result.injected).toBeGreaterThan(30);
});
