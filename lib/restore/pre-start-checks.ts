import { readFileSync } from 'node:fs';
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeDiskFailure, diskFailureOf } from '../errors.ts';
import { serviceModule, type Policy } from '../policy/index.ts';
import { sha256Buffer } from '../checksum/index.ts';
import { parseToml, validateToml, type TomlCheck } from '../state/index.ts';
import { describeLinks, expandNoFollow, linkAt, type LinkFound } from '../tree/index.ts';

export interface CheckResult {
  check: string;
  ok: boolean;
  /** An error keeps the services stopped; a warning is reported. */
  severity: 'error' | 'warning';
  detail: string;
}

/**
 * Cheap, meaningful checks of a restored root before any service starts (the runbook ran
 * its unit tests here): every TOML state and config parses (files the backup itself had
 * recorded as invalid are warnings: the system ran with them before), version.toml is
 * readable and says which version this is, .env is not readable by others, and every
 * service's module has its state folder. Nothing is read through a link: links met are named
 * (a warning: a service would follow them).
 */
export async function preStartChecks(options: {
  root: string;
  policy: Policy;
  knownInvalid: ReadonlySet<string>;
  /**
   * path → sha256 of files this restore has just validated as TOML (the staged ones): a live
   * file with exactly those bytes is not parsed a second time (12.8k state files: ~2 s).
   */
  validated?: ReadonlyMap<string, string>;
}): Promise<CheckResult[]> {
  const { root, policy } = options;
  const results: CheckResult[] = [];

  const links = new Map<string, LinkFound>();
  const found = new Set<string>();
  for (const pattern of policy.validation.toml) {
    const { matches, links: met } = expandNoFollow(root, pattern, { dot: true });
    for (const m of matches) if (!m.split('/').some((part) => part.startsWith('.ark-restore'))) found.add(m);
    for (const l of met) links.set(l.path, l);
  }
  const files = [...found].sort();
  const invalid: string[] = [];
  const known: string[] = [];
  for (const file of files) {
    // Synchronous: no service runs yet and nothing else waits; thousands of small reads go
    // faster without a thread-pool round trip each.
    const bytes = readFileSync(join(root, file));
    const validated = options.validated?.get(file);
    const check: TomlCheck =
      validated !== undefined && validated === sha256Buffer(bytes) ? { ok: true } : validateToml(bytes);
    if (!check.ok) (options.knownInvalid.has(file) ? known : invalid).push(`${file} (${check.reason})`);
  }
  results.push({
    check: 'toml-valid',
    ok: invalid.length === 0,
    severity: 'error',
    detail:
      invalid.length === 0
        ? `${files.length - known.length} of ${files.length} state/config file(s) parse`
        : `not valid TOML: ${invalid.join('; ')}`,
  });
  if (known.length > 0) {
    results.push({
      check: 'toml-known-invalid',
      ok: false,
      severity: 'warning',
      detail: `already invalid when the backup was taken, restored as they were (fix them by hand): ${known.join('; ')}`,
    });
  }

  for (const file of ['version.toml', '.env']) {
    const link = linkAt(root, file);
    if (link) links.set(link.path, link);
  }
  results.push(
    links.has('version.toml')
      ? {
          check: 'version',
          ok: false,
          severity: 'error',
          detail: `version.toml is a link (to ${links.get('version.toml')!.target}): not read`,
        }
      : await versionCheck(root),
  );

  const env = links.has('.env') ? null : await lstat(join(root, '.env')).catch(() => null);
  if (env !== null) {
    const open = (env.mode & 0o077) !== 0;
    results.push({
      check: 'env-permissions',
      ok: !open,
      severity: 'warning',
      detail: open
        ? `.env is readable by group or others (mode ${(env.mode & 0o777).toString(8)}): chmod 600 .env`
        : '.env is private (0600)',
    });
  }

  const missing: string[] = [];
  for (const [name, spec] of Object.entries(policy.services)) {
    const module = serviceModule(name, spec);
    if (module === null) continue;
    const rel = `modules/${module}/state`;
    const link = linkAt(root, rel);
    if (link) links.set(link.path, link);
    else if (
      !(await lstat(join(root, rel)).then(
        (s) => s.isDirectory(),
        () => false,
      ))
    )
      missing.push(`${name} (${rel}/)`);
  }
  results.push({
    check: 'module-states',
    ok: missing.length === 0,
    severity: 'warning',
    detail:
      missing.length === 0
        ? 'every service has its state folder'
        : `no state folder for ${missing.join(', ')}: those services start from empty state`,
  });
  if (links.size > 0) {
    const sorted = [...links.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
    results.push({
      check: 'links',
      ok: false,
      severity: 'warning',
      detail: `links in the restored tree, not read (a service would follow them): ${describeLinks(sorted)}`,
    });
  }
  return results;
}

async function versionCheck(root: string): Promise<CheckResult> {
  let text: string;
  try {
    text = await readFile(join(root, 'version.toml'), 'utf8');
  } catch (error) {
    return {
      check: 'version',
      ok: false,
      severity: 'error',
      detail: `version.toml cannot be read: ${readFailure(error)}`,
    };
  }
  const check = validateToml(text);
  if (!check.ok)
    return {
      check: 'version',
      ok: false,
      severity: 'error',
      detail: `version.toml is not valid TOML: ${check.reason}`,
    };
  const parsed = parseToml(text);
  const version = findKey(parsed, 'current_version');
  return typeof version === 'string'
    ? { check: 'version', ok: true, severity: 'error', detail: `Arkalia ${version}` }
    : { check: 'version', ok: false, severity: 'warning', detail: 'version.toml has no current_version' };
}

function findKey(table: Record<string, unknown>, key: string): unknown {
  if (key in table) return table[key];
  for (const value of Object.values(table)) {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const found = findKey(value as Record<string, unknown>, key);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function readFailure(error: unknown): string {
  const errno = diskFailureOf(error);
  return errno ? describeDiskFailure(errno) : String((error as NodeJS.ErrnoException).code ?? error);
}
