#!/usr/bin/env -S npx tsx
// Total disk loss (the runbook's ark_disk_recovery.sh): rebuild the local backup from the
// offsite copy with nothing but a private key, restore it into a new root, start the services.
// Only what argument checking needs is imported up front: a usage error answers at once.
import { resolve } from 'node:path';
import { EXIT, UsageError } from '../lib/errors.ts';
import { parseLockTimeout, LOCK_TIMEOUT_HELP } from '../lib/lock/index.ts';
import { isBackupStamp } from '../lib/layout/index.ts';
import { COMMON_HELP, policyLocation } from './cli/parse-options.ts';
import { formatBytes } from './cli/render-event.ts';
import { retryPolicyFromEnv } from './cli/retry-policy-from-env.ts';
import { SERVICES_HELP, servicesKind } from './cli/restore-options.ts';
import { runScript } from './cli/run-script.ts';

const HELP = `Usage: disk-recovery.mts --from TARGET --key FILE --root DIR [YYYYMMDD] [options]

Everything local is gone; the offsite copy (what remote-sync.mts sends: the *.gpg files, the
SHA256SUMS that vouches for them, encrypted_manifest.json) and a private key are all there is.
  1. reads the key(s) first: a missing or wrong passphrase stops here (exit 2);
  2. lists the offsite and reads its SHA256SUMS and encrypted_manifest.json (checked against
     SHA256SUMS), and picks the newest backup set (or the one of YYYYMMDD) whose files are
     there and vouched for;
  3. checks that the key opens that set (a wrong key fails at once, exit 2, before any
     download: it would fail for every set alike);
  4. downloads each file to a hidden temp file, kept only when its size and sha256 match
     SHA256SUMS (transient failures retried; a mismatch downloaded once more);
  5. decrypts it streaming; the archive is kept only when the decryption ended cleanly and
     its sha256 matches the manifest;
  6. rebuilds <backup-dir>/daily/arkalia_<DATE>/ with the archives and checksums_<DATE>.sha256
     (in a hidden partial folder, renamed into place when complete): \`sha256sum -c\`,
     emergency-restore and disaster-recovery accept it;
  7. restores the states, configs (and infra, when the offsite holds it) into a hidden tree
     beside --root with the shared restore pipeline (verify, extract safely, validate every
     TOML file), then renames it into place: --root is complete or as it was, never half
     there (a mount point is restored in place under the restore journal instead);
  8. checks the restored root, creates the folders the containers bind-mount from it that
     the offsite does not hold (logs/: by you, not by Docker as root), then starts the
     services in the policy's order, each group healthy before the next, and checks the API.
If the newest set is missing a file, or a file is damaged on the offsite or does not decrypt
(corruption), that set is rejected, named with the reason, and the next older one is tried
(not when a date is given). TOML files that were already invalid when the backup ran are
restored as they were and named (exit 3), like full-backup archives them.

Options:
  --from TARGET            the offsite: a folder, user@host:/path (rsync over ssh) or
                           s3://bucket/prefix (env ARK_OFFSITE; see remote-sync.mts --help
                           for ARK_SSH_* and the S3 variables). It is only ever read.
  --key FILE               a private key (armored or binary: keys.mts generate's .sec.asc,
                           or gpg --export-secret-keys --armor KEYID); repeatable
  --keyring DIR            a keyring folder (keys.mts); its keys the files are encrypted to
  --passphrase-file FILE   passphrase of the key(s), first line (env ARK_PASSPHRASE)
  --root DIR               the new Arkalia root: absent or empty (required; env ARK_ROOT)
  --backup-dir DIR         where the local backup is rebuilt (env ARK_BACKUP_DIR; default
                           /backup, where every other script looks for it). Never the
                           offsite folder, never inside --root.
${SERVICES_HELP}
  --clone URL              a new host: first clone the Arkalia repository (the runbook's git
                           clone) and lay it into the new root; its docker-compose.yml gives
                           the services, and the state from the offsite copy is restored over
                           it. With --services compose (the default with the Compose CLI) the
                           containers are created from it
  --ref REF                the branch, tag or commit of --clone to check out
  --build                  build the compose file's images first (the runbook's
                           docker-compose build), for services that have a build section
  --dry-run                say which set would be used, what would be fetched (names, sizes,
                           sha256), rebuilt and restored; reads only SHA256SUMS and the
                           manifest, writes nothing
${LOCK_TIMEOUT_HELP}
${COMMON_HELP}

Secrets (private keys, passphrases, S3 credentials) come from files or the environment,
never from the command line. Tuning (env): ARK_OFFSITE_RETRIES (default 4),
ARK_OFFSITE_RETRY_DELAY_MS (first delay, default 500).

Node 20: npx tsx scripts/disk-recovery.mts ...   Node >= 22.18: zx scripts/disk-recovery.mts ...`;

await runScript(
  {
    help: HELP,
    options: {
      from: { type: 'string' },
      key: { type: 'string', multiple: true },
      keyring: { type: 'string' },
      'passphrase-file': { type: 'string' },
      services: { type: 'string' },
      compose: { type: 'string' },
      clone: { type: 'string' },
      ref: { type: 'string' },
      build: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      'lock-timeout': { type: 'string' },
    },
    positionals: true,
    scriptUrl: import.meta.url,
  },
  async (ctx, { values, positionals, common }) => {
    const env = process.env;
    const [date, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}; see --help`);
    if (date !== undefined && !isBackupStamp(date))
      throw new UsageError(
        `backup date must be a calendar date as YYYYMMDD, or a recovery point as YYYYMMDD_HHMM, got ${JSON.stringify(date)}`,
      );
    const from = values.from ?? env.ARK_OFFSITE;
    if (from === undefined || from === '')
      throw new UsageError(
        'missing --from TARGET (or env ARK_OFFSITE): the offsite folder, user@host:/path or s3://bucket/prefix remote-sync writes to; see --help',
      );
    if (!values.root && !env.ARK_ROOT)
      throw new UsageError(
        'missing --root DIR (or env ARK_ROOT): the new, empty or absent Arkalia root to restore into',
      );
    const keyFiles = (values.key ?? []).map((k) => resolve(k));
    const keyring = values.keyring ? resolve(values.keyring) : undefined;
    if (keyFiles.length === 0 && keyring === undefined)
      throw new UsageError(
        'missing --key FILE (a private key: <name>.sec.asc, or gpg --export-secret-keys --armor KEYID) or --keyring DIR',
      );
    const kind = servicesKind(values.services);
    if (typeof values.ref === 'string' && typeof values.clone !== 'string')
      throw new UsageError('--ref REF names a branch, tag or commit of --clone URL: give --clone too');
    const dryRun = values['dry-run'] === true;
    const lockTimeoutMs = parseLockTimeout(values['lock-timeout']);
    const retry = retryPolicyFromEnv(env);

    const [
      { diskRecovery },
      { loadPolicy },
      { resolveServices: resolveServicesFor },
      { noneController },
      { openRemote, parseTarget },
      { resolvePassphrase },
    ] = await Promise.all([
      import('../lib/pipeline/disk-recovery.ts'),
      import('../lib/policy/index.ts'),
      import('../lib/pipeline/restore-services.ts'),
      import('../lib/services/index.ts'),
      import('../lib/offsite/index.ts'),
      import('../lib/crypto/index.ts'),
    ]);
    const target = parseTarget(from);
    const passphrase = await resolvePassphrase({
      file: values['passphrase-file'],
      envValue: env.ARK_PASSPHRASE,
      envName: 'ARK_PASSPHRASE',
      flag: '--passphrase-file',
    });
    if (passphrase?.warning) ctx.sink({ kind: 'warning', code: 'PASSPHRASE_FILE_MODE', message: passphrase.warning });
    const remote = await openRemote(target, env);
    // The root is gone, and its ark.policy.toml with it: --policy FILE, else the built-in policy.
    // Its services: --compose FILE, the cloned repository's compose file (--clone), or the
    // root's where it is still there; chosen by the pipeline once the repository is cloned.
    const loaded = await loadPolicy(policyLocation(common));
    const resolveServices = (readFrom: string | undefined) =>
      resolveServicesFor({
        loaded,
        root: common.root,
        kind,
        ...(typeof values.compose === 'string' ? { composeFile: values.compose } : {}),
        ...(readFrom ? { readFrom } : {}),
      });
    const { policy, source } = loaded;
    ctx.say(
      `💽 disk recovery from ${remote.target} into ${common.root} (local backup rebuilt in ${common.backupDir}; policy: ${source})${dryRun ? ' — dry run' : ''}`,
    );
    const report = await diskRecovery({
      remote,
      ...(target.kind === 'local' ? { offsiteDir: target.path } : {}),
      root: common.root,
      backupDir: common.backupDir,
      policy,
      keys: { keyFiles, ...(keyring ? { keyring } : {}), passphrases: passphrase ? [passphrase.value] : [] },
      ...(date ? { date } : {}),
      services: noneController,
      resolveServices,
      ...(typeof values.clone === 'string'
        ? { repository: { url: values.clone, ...(typeof values.ref === 'string' ? { ref: values.ref } : {}) } }
        : {}),
      build: values.build === true,
      sink: ctx.sink,
      dryRun,
      retry: { policy: retry },
      lockTimeoutMs,
    });

    const rejected = report.rejected.map(
      (r) => `  - offsite set ${r.date} rejected (${r.code}): ${r.reason.replace(/\n\s*/g, ' ')}`,
    );
    if (report.dryRun) {
      const plan = report.plan!;
      const bytes = plan.fetch.reduce((sum, f) => sum + f.bytes, 0);
      return {
        exitCode: EXIT.ok,
        summary: [
          `[dry run] would restore offsite set ${plan.date}: fetch ${plan.fetch.length} file(s), ${formatBytes(bytes)}; nothing was downloaded (but the manifest) or written`,
          ...rejected,
        ].join('\n'),
        policy: source,
        result: { ...report },
      };
    }
    const backup = report.backup!;
    // Files already invalid when backed up are restored as they were and named, exit 0 as
    // from every restore (lib/errors.ts EXIT_CODES): what was restored verified.
    const exitCode = EXIT.ok;
    const lines = [
      `${report.knownInvalid.length === 0 ? '✅' : '⚠'} ${report.root} recovered from offsite set ${backup.date} (recovery point ${backup.recoveryPoint ?? backup.date}; encrypted ${backup.encryptedAt ?? 'at an unknown time'}): ${report.restored.length} file(s) restored`,
      `  local backup: ${backup.dir}${backup.reused ? ' (already there, verified)' : ' (rebuilt)'}`,
      ...report.fetched.map((f) => `  fetched ${f.name}: ${formatBytes(f.bytes)}, sha256 ${f.sha256}`),
      ...report.keys.map((k) => `  key used: ${k.fingerprint} ${k.userIds[0] ?? ''} (${k.source})`.trimEnd()),
      ...rejected,
      ...report.knownInvalid.map(
        (k) => `  ⚠ ${k.path}: already invalid TOML in the backup, restored as it was: fix it by hand (${k.reason})`,
      ),
      ...report.notRestored.map(
        (n) => `  not in the offsite copy: ${n.dataset} (${n.paths.join(' ')}): take it from the Arkalia repository`,
      ),
      report.services === null
        ? '  services: not managed (--services none)'
        : `  services: ${report.services.started.length} started${report.services.api?.ok ? ', API answers' : ''}`,
      '  Monitor the system closely for the next 48 h (runbook).',
    ];
    return { exitCode, summary: lines.join('\n'), policy: source, result: { ...report } };
  },
);
