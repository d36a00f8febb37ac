#!/usr/bin/env -S npx tsx
// `ark list`: the backup points of a backup folder (restic's `snapshots`, borg's `list`).
import { EXIT } from '../lib/errors.ts';
import { COMMON_HELP } from './cli/parse-options.ts';
import { formatBytes } from './cli/render-event.ts';
import { runScript } from './cli/run-script.ts';

const HELP = `Usage: list.mts [options]        (ark list)

Lists every backup point in <backup-dir>/daily/, newest first: when it was taken, its size
(and what it added on disk: points share unchanged archives as hard links), its archives,
its recovery point (the newest capture time in its manifest), and its last full
verification (every archive against its checksum file, by verify --daily) with the result.
Reads only: nothing is hashed or changed. A point missing its checksum file or manifest,
or an archive, is marked incomplete.

${COMMON_HELP}

Node 20: npx tsx scripts/list.mts ...   Node >= 22.18: zx scripts/list.mts ...`;

await runScript({ help: HELP, options: {}, scriptUrl: import.meta.url }, async (ctx, { common }) => {
  const { listBackups } = await import('../lib/pipeline/list-backups.ts');
  const listing = await listBackups(common.backupDir);
  const rows = listing.backups.map((b) => {
    const linked = b.archives.filter((a) => a.reused_from !== null).length;
    const verified = b.last_verified
      ? `${b.last_verified.at.slice(0, 16).replace('T', ' ')} ${b.last_verified.ok ? 'ok' : `FAILED (${b.last_verified.problems.map((p) => p.archive).join(', ')})`}`
      : 'never';
    return [
      `${b.complete && b.problems.length === 0 ? ' ' : '⚠'} ${b.name}`,
      b.taken.replace('T', ' '),
      `${formatBytes(b.bytes)} (+${formatBytes(b.new_bytes)})`,
      `${b.archives.length}${linked > 0 ? ` (${linked} linked)` : ''}`,
      b.recovery_point ?? 'unknown',
      verified,
    ];
  });
  const header = ['  POINT', 'TAKEN', 'SIZE (+NEW)', 'ARCHIVES', 'RECOVERY POINT', 'LAST VERIFIED'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => [...r[i]!].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - [...c].length)))
      .join('  ')
      .trimEnd();
  if (!common.json) {
    if (rows.length === 0) process.stdout.write(`no backup in ${common.backupDir}/daily/\n`);
    else process.stdout.write(`${[line(header), ...rows.map(line)].join('\n')}\n`);
    for (const b of listing.backups) for (const problem of b.problems) ctx.say(`⚠ ${b.name}: ${problem}`);
    for (const i of listing.ignored) ctx.say(`⚠ ${i.name} ignored: ${i.reason}`);
  }
  return { exitCode: EXIT.ok, result: { ...listing } };
});
