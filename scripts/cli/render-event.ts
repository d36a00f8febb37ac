import type { ArkEvent } from '../../lib/events.ts';
import { formatBytes } from '../../lib/state/index.ts';

export { formatBytes };

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
      // Already reported by the previous pass: said, but not marked as a problem (-q leaves it out).
      return event.known
        ? `  (still invalid TOML: ${event.path} — ${event.reason})`
        : `✗ invalid TOML: ${event.path} — ${event.reason}`;
    case 'dataset-skipped':
      return `  (${event.archive}: ${event.path} ${event.reason}, skipped)`;
    case 'archive-written':
      return `✓ ${event.file}: ${formatBytes(event.bytes)}, ${event.members} members${
        event.copied
          ? ` (${event.copied.members} unchanged, copied from ${event.copied.from}: ${event.copied.runs} of ${event.copied.of} runs)`
          : ''
      }, sha256 ${event.sha256.slice(0, 16)}…`;
    case 'archive-reused':
      return event.carried
        ? `↺ ${event.file}: not due yet, kept from ${event.from} (captured ${event.capturedAt})`
        : `↺ ${event.file}: unchanged, ${event.how === 'link' ? 'hard link to' : 'copy of'} ${event.from}`;
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
    case 'encrypted-file':
      return `✓ encrypted ${event.file}: ${formatBytes(event.bytes)} to ${event.recipients.join(', ')}${event.signedBy ? `, signed by ${event.signedBy}` : ''}`;
    case 'encryption-verified':
      return `✓ verified ${event.file} (${event.level}): ${event.note}`;
    case 'encryption-skipped':
      return `  (${event.file}: ${event.reason})`;
    case 'key-written':
      return `✓ ${event.secret ? 'private' : 'public'} key ${event.fingerprint} written: ${event.file}`;
    case 'key-current':
      return `✓ current backup key is now ${event.fingerprint}${event.previous ? ` (was ${event.previous}, kept to decrypt older backups)` : ''}`;
    case 'file-reencrypted':
      return `✓ re-encrypted ${event.file}: ${event.from.join(', ')} → ${event.to.join(', ')}`;
    case 'snapshot-written':
      return `✓ snapshot ${event.snapshot} (${formatBytes(event.bytes)})`;
    case 'snapshot-unchanged':
      return `  unchanged: ${event.path} (newest snapshot ${event.snapshot})`;
    case 'snapshot-failed':
      return `✗ no snapshot of ${event.path}: ${event.message}`;
    case 'snapshot-pruned':
      return `  pruned ${event.snapshot} (taken ${event.takenAt})`;
    case 'offsite-plan':
      return `  ${event.action.padEnd(7)} ${event.name}${event.bytes === null ? '' : ` (${formatBytes(event.bytes)})`}: ${event.reason}`;
    case 'offsite-uploaded':
      return `✓ uploaded ${event.name} (${formatBytes(event.bytes)}) to ${event.target}`;
    case 'offsite-verified':
      return `✓ verified on the remote: ${event.name} (${event.method === 'server-checksum' ? 'server sha256' : 'read back'}, sha256 ${event.sha256.slice(0, 16)}…)`;
    case 'offsite-deleted':
      return `✓ deleted from the remote: ${event.name} (${event.reason})`;
    case 'offsite-manifest':
      return `✓ ${event.name} published on ${event.target}: vouches for ${event.files} file(s), ${formatBytes(event.bytes)}`;
    case 'offsite-retry':
      return `↻ ${event.target}: ${event.operation}${event.name ? ` ${event.name}` : ''} failed (${event.code}: ${event.reason}); retry ${event.attempt}/${event.attempt - 1 + event.retriesLeft} in ${(event.delayMs / 1000).toFixed(1)} s`;
    case 'lock-waiting':
      return `⏳ ${event.message}`;
    case 'lock-acquired':
      return event.waitedMs > 0 ? `✓ backup folder lock taken after ${(event.waitedMs / 1000).toFixed(1)} s` : null;
    case 'lock-broken':
      return `⚠ ${event.reason}`;
    case 'backup-verification':
      return event.ok ? `✓ verified ${event.dir}` : `✗ ${event.dir} does not verify: ${event.problem}`;
    case 'retention-decision':
      return `  ${event.action.padEnd(6)} ${event.dir.split('/').pop()}${event.status === 'corrupt' ? ' (DOES NOT VERIFY)' : ''}: ${event.reasons.join('; ')}`;
    case 'backup-deleted':
      return `✓ deleted ${event.dir}`;
    case 'trash-removed':
      return `✓ finished a delete an earlier run left unfinished: ${event.path}`;
    case 'progress':
      return null; // drawn by ProgressRenderer (one updating line on a terminal, periodic lines otherwise)
    case 'backup-rejected':
      return `✗ backup ${event.backup} rejected (${event.code}): ${event.reason.replace(/\n\s*/g, ' ')}`;
    case 'snapshot-used':
      return `✓ ${event.path}: newer real-time snapshot ${event.snapshot} (taken ${event.takenAt}; backup ${event.backupRecoveryPoint ?? 'of unknown time'})`;
    case 'restore-settled':
      return `${event.outcome === 'rolled-back' ? '↺' : '✓'} ${event.message}`;
    case 'prestart-check':
      return `${event.ok ? '✓' : event.severity === 'error' ? '✗' : '⚠'} pre-start check ${event.check}: ${event.detail}`;
    case 'api-check':
      return `${event.ok ? '✓' : '✗'} ${event.message}`;
    case 'restore-diff':
      return `▶ sandbox ${event.sandbox} vs live: ${event.added} added, ${event.removed} removed, ${event.changed} changed, ${event.unchanged} unchanged`;
    case 'verify-check':
      return `${{ ok: '✓', warning: '⚠', failed: '✗', integrity: '✗', skipped: '–' }[event.status]} ${event.mode} ${event.check}: ${event.detail}`;
    case 'metrics-written':
      return `  metrics written: ${event.file} (${event.series} samples)`;
    case 'offsite-fetched':
      return `✓ fetched ${event.name} (${formatBytes(event.bytes)}): sha256 ${event.sha256.slice(0, 16)}… matches the offsite SHA256SUMS${event.attempts > 1 ? ` (download ${event.attempts})` : ''}`;
    case 'archive-decrypted':
      return `✓ decrypted ${event.file} (${formatBytes(event.bytes)}) with key ${event.fingerprint ?? event.keyId ?? '?'}: sha256 ${event.sha256.slice(0, 16)}… matches encrypted_manifest.json`;
    case 'backup-rebuilt':
      return event.reused
        ? `✓ ${event.dir} already holds this offsite backup (verified): nothing downloaded`
        : `✓ local backup rebuilt: ${event.dir} (${event.archives.join(', ')}; checksums from the verified manifest)`;
  }
}

/** How many invalid-state events are not `known` (reported by the previous pass or point): what is new. */
export function newlyInvalid(events: readonly ArkEvent[]): number {
  return events.filter((e) => e.kind === 'invalid-state' && !e.known).length;
}
