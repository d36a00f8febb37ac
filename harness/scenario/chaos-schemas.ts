import { z } from 'zod';
import { durationSchema } from '../../lib/policy/schema.ts';
import { placeholderProblem } from './placeholders.ts';

// The chaos suite's probes and faults (schema.ts adds them to the scenario language). Paths
// are relative to a location: the Arkalia root, the backup folder or the drill's workspace
// ({work}: keys, a local offsite folder). Strings may hold placeholders (placeholders.ts).

/** Any string whose placeholders are all known. */
export const placeholderString = z.string().superRefine((text, ctx) => {
  const problem = placeholderProblem(text);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const inPath = placeholderString.pipe(
  z.string().min(1).refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), { message: 'must be a path relative to its location (in = root | backup | work), without ".."' }),
);

export const LOCATIONS = ['root', 'backup', 'work'] as const;
const location = (fallback: (typeof LOCATIONS)[number]) => z.enum(LOCATIONS).default(fallback);

/** "16KiB", "1MiB", "4096": a size in bytes. */
export const byteSize = z.string().regex(/^\d+(KiB|MiB)?$/, { message: 'a size in bytes, optionally with KiB or MiB (e.g. "16KiB")' });

export function parseByteSize(size: string): number {
  const m = /^(\d+)(KiB|MiB)?$/.exec(size)!;
  return Number(m[1]) * (m[2] === 'MiB' ? 1024 * 1024 : m[2] === 'KiB' ? 1024 : 1);
}

const backupDate = placeholderString.pipe(z.string().regex(/^(newest|\d{8}|\{date[-+]?\d*d?\})$/, { message: 'newest, YYYYMMDD or {date-Nd}' }));

export const chaosProbeSchemas = [
  /** Files equal (byte for byte, none missing, none extra) to the runner's snapshot taken before the fault or before the recovery. */
  z.strictObject({ probe: z.literal('matches-snapshot'), in: location('root'), paths: z.array(inPath).min(1).default(['.']), at: z.enum(['fault', 'recovery']).default('fault'), ignore_heartbeat: z.boolean().default(false) }),
  /** Something matches (or nothing matches) a glob. */
  z.strictObject({ probe: z.literal('path-exists'), in: location('root'), glob: inPath, exists: z.boolean().default(true) }),
  /** GNU `sha256sum -c` of a daily backup's checksum file, then `tar -tzf` of every archive it lists. */
  z.strictObject({ probe: z.literal('backup-verifies'), date: backupDate.default('newest') }),
  /** GNU `sha256sum -c` of a checksum file (e.g. an offsite SHA256SUMS). */
  z.strictObject({ probe: z.literal('checksums-verify'), in: location('work'), file: inPath }),
  /** GnuPG (not our code) decrypts every matching .gpg with the given private key(s), to the sha256 its SHA256SUMS / manifest records. */
  z.strictObject({ probe: z.literal('gpg-decrypts'), in: location('backup'), glob: inPath, key_in: location('work'), key: inPath }),
  /** The newest real-time snapshot of each valid state file is valid TOML and byte-identical to it; an invalid state file was never snapshotted as it is. */
  z.strictObject({ probe: z.literal('snapshot-matches-state'), glob: z.union([inPath, z.array(inPath).min(1)]) }),
  /** The offsite target (a folder, or s3://bucket/prefix) holds every local encrypted/ file byte for byte. */
  z.strictObject({ probe: z.literal('offsite-matches'), target: placeholderString }),
  /** GET a URL (placeholders allowed) answers this status. */
  z.strictObject({ probe: z.literal('url'), url: placeholderString, status: z.number().int().min(0).max(599), body_contains: z.string().optional() }),
  /** The file system of a location has at most this much free space. */
  z.strictObject({ probe: z.literal('free-space'), in: location('backup'), path: inPath.default('.'), at_most: byteSize }),
  /** A Prometheus textfile (node_exporter format) holds this metric, optionally with these labels and at least this value. */
  z.strictObject({ probe: z.literal('metric-present'), in: location('work'), file: inPath, metric: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/), labels: z.record(z.string(), z.string()).default({}), min: z.number().optional() }),
] as const;

/** The fault kinds of the chaos suite; `scripts` are the operator scripts kill-script may run. */
export function chaosFaultSchemas<S extends readonly [string, ...string[]]>(scripts: S) {
  return [
    /** A state file deleted (revert puts its bytes back if it is still missing). */
    z.strictObject({ kind: z.literal('delete-file'), in: location('root'), path: inPath }),
    /** The disk holding the Arkalia root and the local backups is gone (the stack's containers killed with it); only {work} (offsite, keys) remains. */
    z.strictObject({ kind: z.literal('lose-disk') }),
    /** The folder is replaced by a tmpfs holding a copy of it with only `free` bytes left. */
    z.strictObject({ kind: z.literal('disk-full'), in: location('backup'), path: inPath.default('.'), free: byteSize.default('16KiB') }),
    /** SIGKILL a service's container while it is writing its state file (frozen mid-write, then killed). */
    z.strictObject({ kind: z.literal('kill-service'), service: z.string().regex(/^[a-z][a-z0-9_-]*$/), during: z.enum(['state-write', 'any']).default('state-write'), attempts: z.number().int().min(1).max(200).default(40) }),
    /** An operator script started in the background and SIGKILLed mid-way: when `when` matches, or `after` a delay. */
    z.strictObject({
      kind: z.literal('kill-script'),
      script: z.enum(scripts),
      args: z.array(placeholderString).default([]),
      when: z.strictObject({ in: location('backup'), glob: inPath }).optional(),
      after: durationSchema.optional(),
      timeout: durationSchema.default('PT60S'),
    }),
    /** The newest (or a dated) daily backup loses its folder, checksum file or manifest. */
    z.strictObject({ kind: z.literal('delete-backup'), date: backupDate.default('newest'), part: z.enum(['folder', 'checksums', 'manifest']).default('folder') }),
    /** A private key (a .sec.asc file, or a keyring's current key) replaced by another key, or missing. */
    z.strictObject({ kind: z.literal('wrong-key'), in: location('work'), path: inPath, mode: z.enum(['wrong', 'missing']).default('wrong') }),
    /** The offsite target fails: its folder is gone, or {offsite_url} is a closed port (S3 env for scripts). */
    z.strictObject({ kind: z.literal('offsite-unreachable'), how: z.enum(['missing-folder', 'closed-port']).default('missing-folder'), in: location('work'), path: inPath.default('offsite') }),
    /** An S3 offsite (s3rver) behind a loopback proxy that fails every nth request with 503 SlowDown. */
    z.strictObject({ kind: z.literal('flaky-offsite'), bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{2,62}$/).default('arkalia'), fail_every: z.number().int().min(2).max(100).default(3) }),
    /** The configuration breaks: the policy file (ark.policy.toml) or a config/*.toml corrupted, or .env missing. */
    z.strictObject({ kind: z.literal('corrupt-config'), target: z.enum(['policy', 'config-toml', 'env-missing']), path: inPath.optional() }),
    /** A service whose state turned invalid while it was stopped: started again, it never becomes healthy. */
    z.strictObject({ kind: z.literal('service-wont-start'), service: z.string().regex(/^[a-z][a-z0-9_-]*$/) }),
    /** The merge-conflict damage of a real Arkalia file (the sample root's two) reproduced on another file. */
    z.strictObject({ kind: z.literal('git-conflict'), path: inPath, like: z.enum(['state/reflexia_state.toml', 'state/global_context.toml']).default('state/reflexia_state.toml') }),
    /** The backup folder's lock left by a killed run on this host, or held by another host. */
    z.strictObject({ kind: z.literal('stale-lock'), holder: z.enum(['dead-process', 'other-host']) }),
  ] as const;
}

/** Fault kinds and probes that need the containers (refused in a `stack = false` scenario). */
export const NEEDS_STACK = { probes: new Set(['http', 'service-healthy']), faults: new Set(['kill-service', 'service-wont-start']) };
