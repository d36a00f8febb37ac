// Test helper, run as a subprocess: take the backup folder's lock as a real script would,
// log "start"/"end" lines around a hold, release. Events go to stderr as JSON lines.
//   node --import tsx hold-lock.ts <backup-dir> <hold-ms|forever|stdin> <log-file> <timeout-ms> <label>
// "stdin" holds until standard input closes; "forever" until killed.
import { appendFile } from 'node:fs/promises';
import { toArkError } from '../../errors.ts';
import { withBackupLock } from '../backup-lock.ts';

const [backupDir, hold, logFile, timeout, label] = process.argv.slice(2) as [string, string, string, string, string];
try {
  await withBackupLock(
    {
      backupDir,
      timeoutMs: Number(timeout),
      command: `hold-lock ${label}`,
      sink: (event) => process.stderr.write(`EVENT ${JSON.stringify(event)}\n`),
    },
    async () => {
      await appendFile(logFile, `start ${label} ${process.pid}\n`);
      process.stdout.write(`acquired ${process.pid}\n`);
      if (hold === 'stdin') await new Promise((r) => process.stdin.on('end', r).resume());
      else await new Promise((r) => setTimeout(r, hold === 'forever' ? 2 ** 31 - 1 : Number(hold)));
      await appendFile(logFile, `end ${label} ${process.pid}\n`);
    },
  );
} catch (thrown) {
  const error = toArkError(thrown);
  process.stderr.write(`ERROR ${error.code} ${error.message}\n`);
  process.exitCode = error.exitCode;
}
