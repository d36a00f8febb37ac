// Test helpers: daily backups as prune sees them (a states archive, a checksum file, a
// manifest), made without tar, with the defects a prune must notice. Not used by production code.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { localDateStamp } from '../layout/index.ts';
import type { RetentionPlan } from './plan-retention.ts';

export type BackupDefect =
  | 'mismatch'
  | 'missing-archive'
  | 'no-checksum-file'
  | 'states-unlisted'
  | 'empty-checksum-file';

/** A backup folder daily/arkalia_<date> whose checksum file is true, unless a defect is asked for. */
export async function makeBackup(backupDir: string, date: string, defect?: BackupDefect): Promise<string> {
  const dir = join(backupDir, 'daily', `arkalia_${date}`);
  await mkdir(dir, { recursive: true });
  const files: Record<string, string> = {
    [`arkalia_states_${date}.tar.gz`]: `states of ${date}`,
    [`arkalia_logs_${date}.tar.gz`]: `logs of ${date}`,
  };
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  const sha = (text: string) => createHash('sha256').update(text).digest('hex');
  let lines = Object.entries(files).map(([name, content]) => `${sha(content)}  ${name}\n`);
  if (defect === 'states-unlisted') lines = lines.filter((l) => !l.includes('arkalia_states_'));
  if (defect === 'empty-checksum-file') lines = [];
  if (defect !== 'no-checksum-file') await writeFile(join(dir, `checksums_${date}.sha256`), lines.join(''));
  await writeFile(
    join(dir, `backup_manifest_${date}.json`),
    // What the runbook's ark_full_backup.sh writes (no per-archive fields).
    `${JSON.stringify({
      backup_date: `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T03:00:00+00:00`,
      arkalia_version: '2.8.0',
      backup_size_mb: 1,
      files_count: 4,
      git_commit: null,
      host: 'test',
      backup_type: 'full_daily',
    })}\n`,
  );
  if (defect === 'mismatch')
    await writeFile(join(dir, `arkalia_logs_${date}.tar.gz`), `logs of ${date}, one byte flipped`);
  if (defect === 'missing-archive') await rm(join(dir, `arkalia_logs_${date}.tar.gz`));
  return dir;
}

/** YYYYMMDD `days` before `from` (calendar days, local like the backups' own dates). */
export function daysAgo(days: number, from: Date = new Date()): string {
  return localDateStamp(new Date(from.getFullYear(), from.getMonth(), from.getDate() - days, 12));
}

/** Every entry under `dir` (relative path → content, "<dir>" for folders, "-> target" for links): to prove nothing changed. */
export async function snapshotTree(dir: string, base = dir): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const key = relative(base, path);
    if (entry.isSymbolicLink()) out[key] = `-> ${await readlink(path)}`;
    else if (entry.isDirectory()) {
      out[key] = `<dir ${(await stat(path)).ino}>`;
      Object.assign(out, await snapshotTree(path, base));
    } else out[key] = (await readFile(path)).toString('base64');
  }
  return out;
}

/** A plan's kept stamps, newest first. */
export function kept(p: RetentionPlan): string[] {
  return p.decisions.filter((d) => d.action === 'keep').map((d) => d.date);
}

/** A plan's deleted stamps, newest first. */
export function deleted(p: RetentionPlan): string[] {
  return p.decisions.filter((d) => d.action === 'delete').map((d) => d.date);
}

/** The rules that keep (or delete) one backup: rule names, GFS ones as period:key. */
export function rules(p: RetentionPlan, date: string): string[] {
  return p.decisions
    .find((d) => d.date === date)!
    .reasons.map((r) => (r.rule === 'gfs' ? `${r.period}:${r.key}` : r.rule));
}
