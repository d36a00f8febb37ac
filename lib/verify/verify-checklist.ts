import { mkdtemp, readdir, readFile, rm, stat, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifest, verifyChecksums } from '../checksum/index.ts';
import { isArkError, toArkError } from '../errors.ts';
import type { ArkEvent, EventSink } from '../events.ts';
import { listDailyBackups, localDateStamp, SUMS_FILE, type DailyBackup } from '../layout/index.ts';
import { parseDuration, type Policy } from '../policy/index.ts';
import { ageInDays } from '../retention/index.ts';

// The runbook's "Checklist Maintenance Backup" (daily / weekly / monthly) as checks. Each check
// returns a result (never throws for what it checks: a check that cannot run is a failed check
// naming why), and is reported as a `verify-check` event. Heavy libraries (restore pipeline,
// OpenPGP, offsite backends) load only when the check that needs them runs.

export type VerifyMode = 'daily' | 'weekly' | 'monthly';
/** ok; warning (exit unchanged); failed (exit 1); integrity (exit 3); skipped (not asked for / not applicable). */
export type CheckStatus = 'ok' | 'warning' | 'failed' | 'integrity' | 'skipped';

export interface CheckResult {
  mode: VerifyMode;
  check: string;
  status: CheckStatus;
  detail: string;
  data?: Record<string, unknown>;
}

export type EvidenceVerifier = (bytes: Uint8Array, signatureArmored: string, publicArmored: string) => Promise<{ ok: boolean; fingerprint: string | null; reason: string | null }>;

export interface ChecklistOptions {
  root: string;
  backupDir: string;
  policy: Policy;
  sink: EventSink;
  now?: () => Date;
  env?: NodeJS.ProcessEnv;
  /** Offsite target text (folder, user@host:/path, s3://bucket/prefix). */
  offsite?: string;
  /** Monthly: the backup keyring (key rotation due?). */
  keyring?: string;
  /** Monthly: a private key file able to decrypt the offsite copies, and its passphrases. */
  key?: string;
  passphrases?: readonly string[];
  /** Monthly: the folder holding evidence/<run-id>/ (npm run drill writes reports/). */
  reportsDir?: string;
  /** Monthly: checks evidence.json.asc (harness/evidence/sign-evidence.ts verifyDetached; injected so lib/ does not depend on the harness). */
  verifyEvidence?: EvidenceVerifier;
  /** Capacity check: free bytes of the backup file system (default: statfs). */
  freeBytes?: (dir: string) => Promise<number>;
}

export const SIZE_CHANGE_LIMIT = 0.5;
export const SIZE_HISTORY = 7;
export const KEY_ROTATION_DAYS = 30;
export const EVIDENCE_MAX_DAYS = 31;
export const DRILL_COMMAND = 'npm run drill';

/** Exit code for a set of results: 3 if any integrity problem, else 1 if any failed, else 0. */
export function checklistExitCode(results: readonly CheckResult[]): 0 | 1 | 3 {
  if (results.some((r) => r.status === 'integrity')) return 3;
  if (results.some((r) => r.status === 'failed')) return 1;
  return 0;
}

export async function runChecklist(modes: readonly VerifyMode[], options: ChecklistOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const run = async (mode: VerifyMode, check: string, work: () => Promise<Omit<CheckResult, 'mode' | 'check'>>) => {
    let result: CheckResult;
    try {
      result = { mode, check, ...(await work()) };
    } catch (error) {
      const ark = toArkError(error);
      result = { mode, check, status: ark.exitCode === 3 ? 'integrity' : 'failed', detail: ark.message, data: { code: ark.code } };
    }
    results.push(result);
    options.sink({ kind: 'verify-check', mode, check, status: result.status, detail: result.detail });
  };
  if (modes.includes('daily')) {
    await run('daily', 'schedule', () => checkSchedule(options));
    await run('daily', 'sizes', () => checkSizes(options));
    await run('daily', 'checksums', () => checkChecksums(options));
    await run('daily', 'offsite', () => checkOffsite(options));
  }
  if (modes.includes('weekly')) {
    await run('weekly', 'test-restore', () => checkTestRestore(options));
    await run('weekly', 'prune-dry-run', () => checkPruneDryRun(options));
    await run('weekly', 'capacity', () => checkCapacity(options));
    await run('weekly', 'log-audit', async () => ({
      status: 'skipped',
      detail: 'no backup log exists in arkalia-dr to audit: the scripts report on stderr (cron mail / journal), in --json and in the metrics file; audit arkalia_backup_failures_total instead',
    }));
  }
  if (modes.includes('monthly')) {
    await run('monthly', 'key-rotation', () => checkKeyRotation(options));
    await run('monthly', 'offsite-decrypt', () => checkOffsiteDecrypt(options));
    await run('monthly', 'evidence', () => checkEvidence(options));
  }
  return results;
}

type Outcome = Omit<CheckResult, 'mode' | 'check'>;
const now = (o: ChecklistOptions) => (o.now ?? (() => new Date()))();

async function backups(options: ChecklistOptions): Promise<DailyBackup[]> {
  return (await listDailyBackups(options.backupDir)).backups;
}

// ---- daily ----

/** The newest backup (by its folder date) is at most schedule.full + 1 day old. */
export async function checkSchedule(options: ChecklistOptions): Promise<Outcome> {
  const all = await backups(options);
  if (all.length === 0) return { status: 'failed', detail: `no daily backup in ${join(options.backupDir, 'daily')}` };
  const newest = all[0]!;
  const limitDays = Math.ceil(parseDuration(options.policy.schedule.full) / 86_400_000) + 1;
  const age = ageInDays(newest.date, localDateStamp(now(options)));
  const data = { newest: newest.date, age_days: age, limit_days: limitDays };
  if (age > limitDays) return { status: 'failed', detail: `newest backup arkalia_${newest.date} is ${age} days old (schedule ${options.policy.schedule.full} + 1 day allows ${limitDays}): backups did not run on schedule`, data };
  return { status: 'ok', detail: `newest backup arkalia_${newest.date} is ${age} day(s) old (limit ${limitDays})`, data };
}

export interface BackupSize {
  date: string;
  bytes: number;
  /** archive name (states, logs, ...) → member count, from the manifest (empty when it has none). */
  members: Record<string, number>;
}

/** Total archive bytes and member counts: the manifest's when it lists archives, else the *.tar.* files on disk. */
export async function backupSize(backup: DailyBackup): Promise<BackupSize> {
  try {
    const manifest = parseManifest(await readFile(join(backup.dir, `backup_manifest_${backup.date}.json`), 'utf8'));
    if (manifest.archives && manifest.archives.length > 0) {
      return { date: backup.date, bytes: manifest.archives.reduce((s, a) => s + a.size_bytes, 0), members: Object.fromEntries(manifest.archives.map((a) => [a.name, a.members])) };
    }
  } catch {
    // no usable manifest: measure the files
  }
  let bytes = 0;
  for (const name of await readdir(backup.dir)) if (/\.tar(\.[a-z0-9]+)?$/.test(name)) bytes += (await stat(join(backup.dir, name))).size;
  return { date: backup.date, bytes, members: {} };
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Newest backup vs the median of up to 7 previous ones: > 50 % change either way is a warning (never a failure). */
export async function checkSizes(options: ChecklistOptions): Promise<Outcome> {
  const all = await backups(options);
  if (all.length === 0) return { status: 'skipped', detail: 'no backup to measure' };
  const [newest, ...history] = await Promise.all(all.slice(0, SIZE_HISTORY + 1).map(backupSize));
  if (history.length === 0) return { status: 'ok', detail: `arkalia_${newest!.date}: ${newest!.bytes} bytes; no earlier backup to compare with`, data: { newest } };
  const anomalies: string[] = [];
  const compare = (what: string, value: number, previous: number[]) => {
    if (previous.length === 0) return;
    const m = median(previous);
    const change = m === 0 ? (value === 0 ? 0 : Infinity) : (value - m) / m;
    if (Math.abs(change) > SIZE_CHANGE_LIMIT) anomalies.push(`${what} ${value} vs median ${m} (${Number.isFinite(change) ? `${change > 0 ? '+' : ''}${Math.round(change * 100)} %` : 'from 0'})`);
  };
  compare('total bytes', newest!.bytes, history.map((h) => h.bytes));
  for (const [name, members] of Object.entries(newest!.members)) compare(`${name} members`, members, history.flatMap((h) => (h.members[name] === undefined ? [] : [h.members[name]!])));
  const data = { newest, compared_with: history.map((h) => h.date) };
  if (anomalies.length > 0) return { status: 'warning', detail: `arkalia_${newest!.date} differs by more than 50 % from the median of ${history.length} previous backup(s) (a warning, not a failure): ${anomalies.join('; ')}`, data };
  return { status: 'ok', detail: `arkalia_${newest!.date}: ${newest!.bytes} bytes, within 50 % of the median of ${history.length} previous backup(s)`, data };
}

export interface ChecksumFailure {
  backup: string;
  archive: string;
  problem: string;
}

/** Every checksum of every daily backup; every archive that fails is named. */
export async function checkChecksums(options: ChecklistOptions): Promise<Outcome> {
  const all = await backups(options);
  if (all.length === 0) return { status: 'failed', detail: `no daily backup in ${join(options.backupDir, 'daily')} to verify`, data: { verified: 0, failed: [] } };
  const failed: ChecksumFailure[] = [];
  let verified = 0;
  for (const backup of all) {
    const file = join(backup.dir, `checksums_${backup.date}.sha256`);
    try {
      const results = await verifyChecksums(file);
      if (results.length === 0) failed.push({ backup: backup.name, archive: `checksums_${backup.date}.sha256`, problem: 'lists no file' });
      for (const r of results) {
        if (r.ok) verified += 1;
        else failed.push({ backup: backup.name, archive: r.name, problem: r.problem === 'missing' ? 'missing' : `sha256 mismatch (expected ${r.expected}, got ${r.actual})` });
      }
    } catch (error) {
      if (!isArkError(error) && !(error as NodeJS.ErrnoException).code) throw error;
      failed.push({ backup: backup.name, archive: `checksums_${backup.date}.sha256`, problem: (error as Error).message });
    }
  }
  const data = { backups: all.length, verified, failed };
  if (failed.length > 0) return { status: 'integrity', detail: `${failed.length} archive(s) fail their checksum: ${failed.map((f) => `${f.backup}/${f.archive} (${f.problem})`).join('; ')}`, data };
  return { status: 'ok', detail: `${verified} archive(s) in ${all.length} backup(s) verify`, data };
}

/** The offsite lists, and holds a SHA256SUMS. */
export async function checkOffsite(options: ChecklistOptions): Promise<Outcome> {
  if (!options.offsite) return { status: 'skipped', detail: 'no --offsite TARGET (or ARK_OFFSITE) given' };
  const remote = await openOffsite(options);
  const listing = await remote.list();
  const data = { target: remote.target, files: listing.length };
  if (!listing.some((e) => e.name === SUMS_FILE)) return { status: 'failed', detail: `${remote.target} is reachable (${listing.length} file(s)) but has no ${SUMS_FILE}: nothing there is vouched for`, data };
  return { status: 'ok', detail: `${remote.target} reachable: ${listing.length} file(s), ${SUMS_FILE} present`, data };
}

async function openOffsite(options: ChecklistOptions) {
  const [{ parseTarget }, { openRemote }] = await Promise.all([import('../offsite/parse-target.ts'), import('../offsite/open-remote.ts')]);
  return openRemote(parseTarget(options.offsite!), options.env ?? process.env);
}

// ---- weekly ----

/** Only what an operator needs to see of a sub-pipeline's events (not every restored file). */
function quiet(sink: EventSink): EventSink {
  const keep: ReadonlySet<ArkEvent['kind']> = new Set(['warning', 'backup-rejected', 'backup-selected']);
  return (event) => {
    if (keep.has(event.kind)) sink(event);
  };
}

/** Disaster-recovery test mode into a temporary sandbox (services untouched), and its diff against the live tree. */
export async function checkTestRestore(options: ChecklistOptions): Promise<Outcome> {
  const [{ disasterRecovery }, { noneController }] = await Promise.all([import('../pipeline/disaster-recovery.ts'), import('../services/index.ts')]);
  const report = await disasterRecovery({ root: options.root, backupDir: options.backupDir, policy: options.policy, services: noneController, sink: quiet(options.sink), sandbox: 'temporary' });
  const d = report.diff;
  const counts = d ? { added: d.added.length, removed: d.removed.length, changed: d.changed.length, unchanged: d.unchanged } : null;
  return {
    status: 'ok',
    detail: `backup ${report.backup?.date ?? '?'} restored into a temporary sandbox (services untouched); diff vs live tree: ${counts ? `${counts.added} added, ${counts.removed} removed, ${counts.changed} changed, ${counts.unchanged} unchanged` : 'none'}`,
    data: { date: report.backup?.date ?? null, diff: counts },
  };
}

export async function checkPruneDryRun(options: ChecklistOptions): Promise<Outcome> {
  const { runPrune } = await import('../pipeline/prune.ts');
  const report = await runPrune({ backupDir: options.backupDir, retention: options.policy.retention, sink: quiet(options.sink), dryRun: true, ...(options.now ? { now: options.now } : {}) });
  const data = { would_delete: report.deleted, corrupt: report.corrupt, newest_verified: report.newestVerified };
  const would = report.deleted.length > 0 ? `would delete ${report.deleted.map((d) => `arkalia_${d}`).join(', ')}` : 'would delete nothing';
  if (report.corrupt.length > 0) return { status: 'integrity', detail: `[dry run] ${would}; backups that do NOT verify: ${report.corrupt.map((c) => `arkalia_${c.date} (${c.problem})`).join('; ')}`, data };
  return { status: 'ok', detail: `[dry run] ${would}, keep ${report.backups.length - report.deleted.length}`, data };
}

async function statfsFree(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

/** Free space on the backup file system: at least two of the newest backup. */
export async function checkCapacity(options: ChecklistOptions): Promise<Outcome> {
  const all = await backups(options);
  const free = await (options.freeBytes ?? statfsFree)(options.backupDir);
  if (all.length === 0) return { status: 'warning', detail: `${free} bytes free on ${options.backupDir}; no backup to size against` , data: { free } };
  const size = await backupSize(all[0]!);
  const data = { free, newest_bytes: size.bytes, needed: 2 * size.bytes };
  if (free < 2 * size.bytes) return { status: 'failed', detail: `only ${free} bytes free on ${options.backupDir}, less than 2 backups' worth (${2 * size.bytes} bytes; newest ${size.bytes})`, data };
  return { status: 'ok', detail: `${free} bytes free on ${options.backupDir}: ${(free / Math.max(1, size.bytes)).toFixed(1)}× the newest backup (${size.bytes} bytes)`, data };
}

// ---- monthly ----

/** The current key older than 30 days: a warning (rotation due), not a failure; no current key: failed. */
export async function checkKeyRotation(options: ChecklistOptions): Promise<Outcome> {
  if (!options.keyring) return { status: 'skipped', detail: 'no --keyring DIR given' };
  const { readKeyring } = await import('../crypto/keyring.ts');
  const keyring = await readKeyring(options.keyring);
  const current = keyring.keys.find((k) => k.status === 'current');
  if (!current) return { status: 'failed', detail: `keyring ${options.keyring} has no current key (run keys.mts rotate --keyring ${options.keyring})` };
  const age = Math.floor((now(options).getTime() - Date.parse(current.created)) / 86_400_000);
  const data = { fingerprint: current.fingerprint, created: current.created, age_days: age };
  if (age > KEY_ROTATION_DAYS) return { status: 'warning', detail: `current key ${current.fingerprint} is ${age} days old (> ${KEY_ROTATION_DAYS}): rotation due — npm run keys -- rotate --keyring ${options.keyring}`, data };
  return { status: 'ok', detail: `current key ${current.fingerprint} is ${age} day(s) old (rotation due after ${KEY_ROTATION_DAYS})`, data };
}

const gpgDate = (name: string) => /_(\d{8})\./.exec(name)?.[1] ?? '';

/** Fetch the newest *.gpg of the offsite (checked against SHA256SUMS), decrypt it, compare with encrypted_manifest.json. */
export async function checkOffsiteDecrypt(options: ChecklistOptions): Promise<Outcome> {
  if (!options.offsite || !options.key) return { status: 'skipped', detail: 'skipped: needs --offsite and --key' };
  const [{ readOffsiteIndex }, { fetchToFile }, { readPrivateKeys, decryptFile }] = await Promise.all([
    import('../restore-source/read-offsite-index.ts'),
    import('../offsite/fetch-to-file.ts'),
    import('../crypto/index.ts'),
  ]);
  const remote = await openOffsite(options);
  const index = await readOffsiteIndex(remote, { sink: options.sink });
  const candidates = index.listing.filter((e) => e.name.endsWith('.gpg') && index.sums.has(e.name) && index.manifest[e.name]).sort((a, b) => gpgDate(b.name).localeCompare(gpgDate(a.name)) || a.name.localeCompare(b.name));
  const sample = candidates[0];
  if (!sample) return { status: 'failed', detail: `${remote.target} holds no *.gpg that SHA256SUMS and encrypted_manifest.json both describe` };
  const record = index.manifest[sample.name]!;
  const keys = await readPrivateKeys(options.key, { passphrases: options.passphrases ?? [], purpose: 'decrypt' });
  const work = await mkdtemp(join(tmpdir(), 'ark-verify-'));
  try {
    const fetched = await fetchToFile(remote, sample.name, join(work, sample.name), { sha256: index.sums.get(sample.name)!, size: sample.size });
    const decrypted = await decryptFile({ source: fetched.path, target: join(work, 'plain'), keys, expectedSha256: record.source_sha256 });
    return { status: 'ok', detail: `${sample.name}: downloaded (${fetched.size} bytes, matches SHA256SUMS), decrypted to ${decrypted.bytes} bytes matching encrypted_manifest.json sha256 ${decrypted.sha256.slice(0, 16)}…`, data: { file: sample.name, sha256: decrypted.sha256, bytes: decrypted.bytes } };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The newest reports/evidence/<run-id>/evidence.json: present, its signature verifies, younger than 31 days. */
export async function checkEvidence(options: ChecklistOptions): Promise<Outcome> {
  const dir = join(options.reportsDir ?? join(process.cwd(), 'reports'), 'evidence');
  const hint = `run the full drill suite with \`${DRILL_COMMAND}\` (verify does not run it)`;
  const runs: { dir: string; mtime: number }[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const s = await stat(join(dir, name, 'evidence.json')).catch(() => null);
    if (s?.isFile()) runs.push({ dir: join(dir, name), mtime: s.mtimeMs });
  }
  runs.sort((a, b) => b.mtime - a.mtime);
  const newest = runs[0];
  if (!newest) return { status: 'failed', detail: `no evidence in ${dir}: ${hint}` };
  if (!options.verifyEvidence) return { status: 'failed', detail: 'no evidence verifier given' };
  const json = await readFile(join(newest.dir, 'evidence.json'));
  const [signature, publicKey] = await Promise.all([readFile(join(newest.dir, 'evidence.json.asc'), 'utf8'), readFile(join(newest.dir, 'signer.pub.asc'), 'utf8')]).catch((error: NodeJS.ErrnoException) => {
    throw new Error(`${newest.dir}: signature or signer key cannot be read (${error.code ?? error}); ${hint}`);
  });
  const verified = await options.verifyEvidence(json, signature, publicKey);
  if (!verified.ok) return { status: 'failed', detail: `${join(newest.dir, 'evidence.json')}: signature does NOT verify (${verified.reason}): the evidence was changed after signing; ${hint}`, data: { dir: newest.dir } };
  let generated = newest.mtime;
  try {
    const at = Date.parse((JSON.parse(json.toString('utf8')) as { generated_at?: string }).generated_at ?? '');
    if (Number.isFinite(at)) generated = at;
  } catch {
    // signed but not JSON: keep the file time
  }
  const age = Math.floor((now(options).getTime() - generated) / 86_400_000);
  const data = { dir: newest.dir, signer: verified.fingerprint, age_days: age };
  if (age >= EVIDENCE_MAX_DAYS) return { status: 'failed', detail: `newest evidence ${newest.dir} is ${age} days old (signature valid; must be younger than ${EVIDENCE_MAX_DAYS}): ${hint}`, data };
  return { status: 'ok', detail: `${newest.dir}: signature valid (${verified.fingerprint}), ${age} day(s) old; full drill: ${DRILL_COMMAND}`, data };
}
