import { describe, expect, it } from 'vitest';
import {
  buildManifest,
  isoSeconds,
  MANIFEST_FORMAT,
  parseManifest,
  type ManifestArchive,
  type ManifestInput,
} from './manifest.ts';

// What a manifest records, in-process: the runbook's fields as its bash wrote them (du -sm
// rounding, file count), ours beside them, and what a manifest must be to be read back.

const states: ManifestArchive = {
  name: 'states',
  file: 'arkalia_states_20261126.tar.gz',
  sha256: 'a'.repeat(64),
  size_bytes: 3 * 1024 * 1024 + 1,
  members: 17_000,
  tar_bytes: 40 * 1024 * 1024,
  sensitive: false,
};
const configs: ManifestArchive = {
  ...states,
  name: 'configs',
  file: 'arkalia_config_20261126.tar.gz',
  size_bytes: 10,
  members: 4,
  sensitive: true,
};

const input = (extra: Partial<ManifestInput> = {}): ManifestInput => ({
  date: '20261126',
  now: new Date('2026-11-26T03:00:00Z'),
  arkaliaVersion: '2.8.0',
  gitCommit: 'abc123',
  host: 'backup-1',
  archives: [states, configs],
  otherBytes: 1000,
  otherFiles: 1,
  invalidStates: [{ path: 'state/global_context.toml', reason: 'line 3: conflict marker', archive: 'states' }],
  skipped: [{ archive: 'models', path: '/var/lib/ollama/models/', reason: 'not present' }],
  tool: 'arkalia-dr 0.1.0',
  ...extra,
});

describe('buildManifest', () => {
  it('records the runbook fields (size rounded up in MiB as du -sm does, every file counted with the manifest) and ours', () => {
    expect(buildManifest(input())).toEqual({
      backup_date: isoSeconds(new Date('2026-11-26T03:00:00Z')),
      arkalia_version: '2.8.0',
      backup_size_mb: 4, // 3 MiB + 1 + 10 + 1000 bytes, rounded up
      files_count: 4, // two archives, the checksum file, the manifest
      git_commit: 'abc123',
      host: 'backup-1',
      backup_type: 'full_daily',
      format: MANIFEST_FORMAT,
      date: '20261126',
      archives: [states, configs],
      invalid_states: [{ path: 'state/global_context.toml', reason: 'line 3: conflict marker', archive: 'states' }],
      skipped: [{ archive: 'models', path: '/var/lib/ollama/models/', reason: 'not present' }],
      tool: 'arkalia-dr 0.1.0',
    });
  });

  it('never says 0 MiB (du -sm says 1 for a few bytes), counts exactly 1 MiB as 1, and takes a point type', () => {
    expect(buildManifest(input({ archives: [], otherBytes: 5, otherFiles: 1 })).backup_size_mb).toBe(1);
    expect(buildManifest(input({ archives: [], otherBytes: 0, otherFiles: 0 })).backup_size_mb).toBe(1);
    const exact = { ...states, size_bytes: 1024 * 1024 };
    expect(buildManifest(input({ archives: [exact], otherBytes: 0 })).backup_size_mb).toBe(1);
    expect(buildManifest(input({ archives: [exact], otherBytes: 1 })).backup_size_mb).toBe(2);
    expect(buildManifest(input({ backupType: 'full_point', date: '20261126_1400' })).backup_type).toBe('full_point');
  });
});

describe('parseManifest', () => {
  it('reads back what buildManifest wrote, exactly', () => {
    const m = buildManifest(input());
    expect(parseManifest(JSON.stringify(m))).toEqual(m);
  });

  it("reads a manifest the runbook's bash wrote (its fields only)", () => {
    const runbook = {
      backup_date: '2026-11-26T03:00:00+00:00',
      arkalia_version: null,
      backup_size_mb: 12,
      files_count: 5,
      git_commit: null,
      host: 'old-host',
      backup_type: 'full_daily',
    };
    expect(parseManifest(JSON.stringify(runbook))).toEqual(runbook);
  });

  it('refuses, as an integrity error naming the file and the field, what is not a manifest', () => {
    expect(() => parseManifest('{ not json', 'backup_manifest_20261126.json')).toThrow(
      expect.objectContaining({
        code: 'MANIFEST_INVALID',
        exitCode: 3,
        message: expect.stringMatching(/^backup_manifest_20261126\.json is not valid JSON: /),
      }),
    );
    const m = buildManifest(input());
    for (const [bad, field] of [
      [{ ...m, host: undefined }, 'host'],
      [{ ...m, files_count: 2.5 }, 'files_count'],
      [{ ...m, format: 'arkalia-dr/9' }, 'format'],
      [{ ...m, date: '2026-11-26' }, 'date'],
      [{ ...m, archives: [{ ...states, sha256: 'not-hex' }] }, 'archives.0.sha256'],
      [{ ...m, archives: [{ ...states, tar_bytes: -1 }] }, 'archives.0.tar_bytes'],
      [{ ...m, archives: [{ ...states, reuse: 'symlink' }] }, 'archives.0.reuse'],
    ] as const)
      expect(() => parseManifest(JSON.stringify(bad), 'm.json')).toThrow(
        expect.objectContaining({
          code: 'MANIFEST_INVALID',
          message: expect.stringMatching(new RegExp(`^m\\.json: ${field.replace('.', '\\.')}: `)),
        }),
      );
  });
});

describe('isoSeconds', () => {
  it('is `date -Iseconds`: local time with its offset, to the second', () => {
    expect(isoSeconds(new Date('2026-11-26T03:00:00.789Z'))).toMatch(/^2026-11-2\dT\d\d:\d\d:00[+-]\d\d:\d\d$/);
    const offset = -new Date('2026-11-26T03:00:00Z').getTimezoneOffset();
    if (offset === 0) expect(isoSeconds(new Date('2026-11-26T03:00:00Z'))).toBe('2026-11-26T03:00:00+00:00');
  });
});

describe('parseManifest defaults', () => {
  it('names "manifest" when no file name is given, and keeps the JSON error as its cause', () => {
    let error: (Error & { code?: string }) | undefined;
    try {
      parseManifest('{ not json');
    } catch (e) {
      error = e as Error;
    }
    expect(error).toMatchObject({
      code: 'MANIFEST_INVALID',
      message: expect.stringMatching(/^manifest is not valid JSON: /),
    });
    expect(error?.cause).toBeInstanceOf(SyntaxError);
    expect(() => parseManifest('{}')).toThrow(/^manifest: backup_date: /);
  });
});

describe('isoSeconds in other time zones', () => {
  // The zone is the Date's own offset (getTimezoneOffset: minutes *behind* UTC), given here
  // for each zone: a TZ change does not reach a worker thread's clock (the mutation run uses one).
  const inZone = (iso: string, minutesBehindUtc: number): Date =>
    Object.assign(new Date(iso), { getTimezoneOffset: () => minutesBehindUtc });
  const at = '2026-11-26T03:00:00.789Z';

  it('writes the local time and its offset, east and west of UTC, half hours included', () => {
    expect(isoSeconds(inZone(at, -330))).toBe('2026-11-26T08:30:00+05:30'); // Asia/Kolkata
    expect(isoSeconds(inZone(at, 210))).toBe('2026-11-25T23:30:00-03:30'); // America/St_Johns in winter
    expect(isoSeconds(inZone(at, 300))).toBe('2026-11-25T22:00:00-05:00'); // America/New_York in winter
    expect(isoSeconds(inZone('2026-07-01T12:00:00Z', -120))).toBe('2026-07-01T14:00:00+02:00'); // Europe/Paris in summer
    expect(isoSeconds(inZone(at, -765))).toBe('2026-11-26T15:45:00+12:45'); // Pacific/Chatham in summer
    expect(isoSeconds(inZone(at, 0))).toBe('2026-11-26T03:00:00+00:00');
  });
});
