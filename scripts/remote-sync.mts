#!/usr/bin/env -S npx tsx
// Offsite copy of the encrypted backups (the runbook's ark_remote_sync.sh: rsync --delete
// --exclude '*.tmp' $ENCRYPTED_DIR/ $REMOTE_BACKUP), to a folder, an ssh host or S3.
import { EXIT, UsageError } from '../lib/errors.ts';
import { LOCK_TIMEOUT_HELP, parseLockTimeout } from '../lib/lock/index.ts';
import { remoteSyncMetrics } from '../lib/metrics/index.ts';
import { openRemote, parseTarget } from '../lib/offsite/index.ts';
import { remoteSync } from '../lib/pipeline/remote-sync.ts';
import { loadPolicy } from '../lib/policy/index.ts';
import { formatBytes } from './cli/render-event.ts';
import { COMMON_HELP, policyLocation } from './cli/parse-options.ts';
import { METRICS_HELP, METRICS_OPTION, runMetrics } from './cli/run-metrics.ts';
import { retryPolicyFromEnv } from './cli/retry-policy-from-env.ts';
import { runScript } from './cli/run-script.ts';
import { encryptedDir } from '../lib/layout/index.ts';

const HELP = `Usage: remote-sync.mts --to TARGET [options]

Mirrors <backup-dir>/encrypted/ (the *.gpg files and the SHA256SUMS that vouches for them)
to TARGET, like \`rsync --delete --exclude '*.tmp'\`, but safely:
  1. every local file is checked against the local SHA256SUMS first; a file that does not
     match (or is not listed) is not sent, and the exit code is 3;
  2. each upload goes to a temporary name and appears under its real name only when
     complete, then the copy ON THE REMOTE is checked (size and sha256); a mismatch is
     removed, reported, exit code 3;
  3. the remote SHA256SUMS (\`sha256sum -c\` works there) is written last and lists only
     verified files; a file whose size and sha256 match it is not sent again, so a second
     run with nothing new uploads nothing;
  4. transient failures (5xx, SlowDown, timeouts, dropped connections, host not answering)
     are retried 4 times with exponential backoff (~0.5 s, 1 s, 2 s, 4 s); permanent ones
     (access denied, ssh authentication, unknown host key, missing bucket or folder, disk
     full) stop at once (exit 1), naming the target.

Deletion rule (never delete the last good offsite copy): a remote file that is gone locally
is deleted only when the remote keeps a NEWER verified copy of the same archive kind (same
name with a later date, e.g. arkalia_states_*.tar.gz.gpg). So the newest copy of each kind
is never deleted; files without a date in their name are never deleted; nothing is deleted
when that newer copy did not verify, when the local folder holds no verified file, or in a
dry run. *.tmp and hidden files are neither sent nor deleted.

TARGET (or env ARK_OFFSITE):
  /mnt/offsite              a local folder (a mounted disk); it must exist
  user@host:/secure/arkalia rsync over ssh (the folder must exist; rsync on both sides)
                            env ARK_SSH_PORT, ARK_SSH_KEY (private key file),
                            ARK_SSH_KNOWN_HOSTS (known_hosts file); ssh runs in BatchMode
                            (never prompts) and ~/.ssh/config applies
  s3://bucket/prefix        any S3-compatible store; credentials from AWS_ACCESS_KEY_ID,
                            AWS_SECRET_ACCESS_KEY (, AWS_SESSION_TOKEN); endpoint from
                            ARK_S3_ENDPOINT or AWS_ENDPOINT_URL (path-style addressing),
                            none = AWS; region AWS_REGION (default us-east-1)
Secrets are read from the environment only, never from the command line, never printed.

Options:
  --to TARGET        where to copy (env ARK_OFFSITE)
  --dry-run          print the plan (upload / skip / delete / keep, with reasons); change nothing
${LOCK_TIMEOUT_HELP}
${METRICS_HELP}
${COMMON_HELP}

One run at a time per backup folder: it holds the backup folder's lock (as full-backup,
prune and encrypted-backup do) while it verifies and sends, so encrypted/ cannot change
under it.

Tuning (env): ARK_OFFSITE_RETRIES (default 4), ARK_OFFSITE_RETRY_DELAY_MS (first delay, default 500).`;

await runScript(
  {
    help: HELP,
    options: {
      to: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'lock-timeout': { type: 'string' },
      ...METRICS_OPTION,
    },
    scriptUrl: import.meta.url,
  },
  async (ctx, { values, common }) => {
    const to = values.to ?? process.env.ARK_OFFSITE;
    if (to === undefined || to === '')
      throw new UsageError(
        'missing --to TARGET (or env ARK_OFFSITE): a folder, user@host:/path or s3://bucket/prefix; see --help',
      );
    const target = parseTarget(to);
    const retry = retryPolicyFromEnv(process.env);
    const dryRun = values['dry-run'] === true;
    const lockTimeoutMs = parseLockTimeout(values['lock-timeout']);
    const metrics = runMetrics(ctx, { flag: values['metrics-file'], type: 'offsite', dryRun });
    const remote = await metrics.guard(() => openRemote(target, process.env));

    const { source } = await metrics.guard(() => loadPolicy(policyLocation(common)));
    ctx.say(
      `🌐 offsite sync of ${encryptedDir(common.backupDir)} → ${remote.target} (policy: ${source})${dryRun ? ' — dry run' : ''}`,
    );
    const report = await metrics.guard(() =>
      remoteSync({
        backupDir: common.backupDir,
        remote,
        sink: ctx.sink,
        dryRun,
        retry: { policy: retry },
        lockTimeoutMs,
      }),
    );
    await metrics.record((facts) => remoteSyncMetrics(report, facts));
    const exitCode = report.problems.length > 0 ? EXIT.integrity : EXIT.ok;
    const counts = `${report.filesUploaded} uploaded (${formatBytes(report.bytesUploaded)}), ${report.plan.filter((a) => a.action === 'skip').length} unchanged, ${report.deleted.length} deleted; the remote vouches for ${report.remote.files} file(s), ${formatBytes(report.remote.bytes)}`;
    const summary = report.dryRun
      ? '[dry run] nothing was changed'
      : exitCode === EXIT.ok
        ? `✅ offsite copy up to date: ${counts}`
        : `⚠ offsite sync finished with ${report.problems.length} integrity problem(s): ${counts}\n${report.problems.map((p) => `  - ${p.name}: ${p.message}`).join('\n')}`;
    return { exitCode, summary, policy: source, result: { ...report } };
  },
);
