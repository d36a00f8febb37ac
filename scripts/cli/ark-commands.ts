import { join } from 'node:path';
import { BUNDLED, INSTALL_DIR } from './install-dir.ts';

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

Each command is the script beside it: \`ark backup ARGS\` runs \`zx scripts/full-backup.mts ARGS\`
(\`ark full-backup ARGS\`, the script's name, runs it too: the scheduled jobs use those).`;
}

/** The ark command a script's name (`full-backup`, or `full-backup.mts`) stands for, or null. */
export function arkCommandOf(script: string): ArkCommand | null {
  const name = script.replace(/\.mts$/, '');
  const found = Object.entries(ARK_COMMANDS).find(([, c]) => c.script === name);
  return found ? (found[0] as ArkCommand) : null;
}

/**
 * The file a command (or a script's name) runs, or null for an unknown one: the script's
 * TypeScript source, or its bundle in dist/ when this runs from the bundle.
 */
export function arkScript(command: string): string | null {
  const name = Object.hasOwn(ARK_COMMANDS, command) ? (command as ArkCommand) : arkCommandOf(command);
  if (name === null) return null;
  const { script } = ARK_COMMANDS[name];
  return BUNDLED ? join(INSTALL_DIR, 'dist', `${script}.mjs`) : join(INSTALL_DIR, 'scripts', `${script}.mts`);
}
