import { fileURLToPath } from 'node:url';

// `ark <command> [options]`: the operator scripts behind one command, as restic and borg have
// one. Each command is the script itself, run in this process with its own argv, so
// `ark backup --root R` and `zx scripts/full-backup.mts --root R` are the same run (same
// options, output, --json and exit code).

export const ARK_COMMANDS = {
  backup: { script: 'full-backup', what: "back up every data set (the runbook's full backup, or --point)" },
  list: { script: 'list', what: 'list backups and recovery points: date, size, archives, last verification' },
  restore: { script: 'emergency-restore', what: "restore one module's state (emergency restore)" },
  recover: { script: 'disaster-recovery', what: 'full-system recovery from the newest backup that verifies' },
  'disk-recover': { script: 'disk-recovery', what: 'recover a lost disk from the offsite copy' },
  encrypt: { script: 'encrypted-backup', what: "encrypt a backup's offsite archives (OpenPGP)" },
  sync: { script: 'remote-sync', what: 'copy encrypted backups offsite' },
  prune: { script: 'prune', what: 'delete backups the retention policy no longer keeps' },
  verify: { script: 'verify', what: 'the daily, weekly and monthly checklist' },
  snapshot: { script: 'realtime-snapshot', what: 'real-time snapshots of the state files' },
  keys: { script: 'keys', what: 'generate, list and rotate encryption keys' },
  schedule: { script: 'schedule', what: "cron lines or systemd units for the policy's frequencies" },
  evidence: { script: 'verify-evidence', what: "check a drill's signed audit evidence" },
} as const;

export type ArkCommand = keyof typeof ARK_COMMANDS;

const SCRIPTS = fileURLToPath(new URL('..', import.meta.url));

export function arkHelp(): string {
  const width = Math.max(...Object.keys(ARK_COMMANDS).map((c) => c.length));
  const rows = Object.entries(ARK_COMMANDS).map(
    ([name, c]) => `  ${name.padEnd(width)}  ${c.what} (scripts/${c.script}.mts)`,
  );
  return `Usage: ark <command> [options]      (ark <command> --help for its options)

Commands:
${rows.join('\n')}

Options every command takes: --root DIR, --backup-dir DIR, --policy FILE, --json,
-q/--quiet, -v/--verbose, --version, -h/--help.
  ark --version    print the version
  ark --help       this help

Each command is the script beside it: \`ark backup ARGS\` runs \`zx scripts/full-backup.mts ARGS\`.`;
}

/** The script a command runs, or null for an unknown command. */
export function arkScript(command: string): string | null {
  if (!Object.hasOwn(ARK_COMMANDS, command)) return null;
  return `${SCRIPTS}${ARK_COMMANDS[command as ArkCommand].script}.mts`;
}
