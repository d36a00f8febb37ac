import type { ArkEvent } from '../../lib/events.ts';

/** One human line per event, for stderr. */
export function renderEvent(event: ArkEvent): string | null {
  switch (event.kind) {
    case 'step':
      return `▶ ${event.message}`;
    case 'info':
      return `  ${event.message}`;
    case 'warning':
      return `⚠ ${event.message}`;
    case 'invalid-state':
      return `✗ invalid TOML: ${event.path} — ${event.reason}`;
    case 'dataset-skipped':
      return `  (${event.archive}: ${event.path} ${event.reason}, skipped)`;
    case 'archive-written':
      return `✓ ${event.file}: ${formatBytes(event.bytes)}, ${event.members} members, sha256 ${event.sha256.slice(0, 16)}…`;
    case 'backup-published':
      return `✓ backup published: ${event.dir}`;
    case 'backup-selected':
      return `▶ using backup ${event.dir} (${event.source})`;
    case 'checksum-verified':
      return `✓ checksum verified: ${event.file}`;
    case 'entry-refused':
      return `✗ refused archive entry ${event.entry}: ${event.reason}`;
    case 'state-preserved':
      return `✓ current state preserved: ${event.to}`;
    case 'file-restored':
      return `✓ restored ${event.path} (sha256 ${event.sha256.slice(0, 16)}…)`;
    case 'service':
      return `${event.action === 'healthy' ? '✓' : '▶'} ${event.message}`;
    case 'service-logs':
      return `--- last log lines of ${event.service} ---\n${event.lines.trimEnd()}\n---`;
    case 'dry-run':
      return `[dry run] ${event.message}`;
  }
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
