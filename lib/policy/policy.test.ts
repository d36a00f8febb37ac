import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../testing.ts';
import { PolicyError } from '../errors.ts';
import { loadPolicy, parseDuration, resolvePolicy } from './index.ts';

async function rootWith(policyText?: string): Promise<string> {
  const root = await tempDir('ark-policy-');
  if (policyText !== undefined) await writeFile(join(root, 'ark.policy.toml'), policyText);
  return root;
}

describe('policy', () => {
  it('defaults to the runbook table', async () => {
    const { policy, source } = await loadPolicy({ root: await rootWith() });
    expect(source).toBe('built-in');
    expect(policy.datasets.states.paths).toEqual(['modules/*/state/', 'state/', 'global_state/']);
    expect(policy.datasets.configs.paths).toContain('.env');
    expect(policy.datasets.configs.frequency).toBe('PT6H');
    expect(policy.datasets.logs.frequency).toBe('PT12H');
    expect(policy.datasets.models.frequency).toBe('P1D');
    expect(policy.datasets.database.frequency).toBe('PT1H');
    expect(policy.retention.daily_days).toBe(30);
    expect(policy.realtime.keep).toBe('P7D');
    expect(policy.archives.states.sensitive).toBe(true);
    // Services come from the root's docker-compose.yml (withCompose): none are built in.
    expect(policy.services).toEqual({});
    expect(policy.start_order).toEqual([]);
    expect(policy.compose).toEqual({ file: 'docker-compose.yml', enabled: true });
    expect(Object.isFrozen(policy.datasets.states.paths)).toBe(true);
  });

  it('merges ark.policy.toml from the root over the defaults, table by table', async () => {
    const root = await rootWith('[retention]\ndaily_days = 14\n[services.zeroia]\ncontainer = "ark-test-zeroia"\n');
    const { policy, source } = await loadPolicy({ root });
    expect(source).toBe(join(root, 'ark.policy.toml'));
    expect(policy.retention.daily_days).toBe(14);
    expect(policy.services.zeroia.container).toBe('ark-test-zeroia');
    expect(policy.services.zeroia.health_timeout).toBe('PT60S'); // defaults fill what the file leaves out
    expect(policy.datasets.logs.frequency).toBe('PT12H'); // untouched tables survive the merge
  });

  it('prefers --policy FILE over the root file', async () => {
    const root = await rootWith('[retention]\ndaily_days = 14\n');
    const file = join(root, 'other.toml');
    await writeFile(file, '[retention]\ndaily_days = 7\n');
    expect((await loadPolicy({ root, file })).policy.retention.daily_days).toBe(7);
  });

  it('names the field and the reason for an invalid value', async () => {
    const root = await rootWith('[datasets.logs]\nfrequency = "12 hours"\n');
    const error = await loadPolicy({ root }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as PolicyError).exitCode).toBe(2);
    expect((error as Error).message).toMatch(/ark\.policy\.toml: invalid policy/);
    expect((error as Error).message).toMatch(/datasets\.logs\.frequency/);
  });

  it('rejects unknown keys (typos) and dangling references', () => {
    expect(() => resolvePolicy({ retention: { daily_dayz: 3 } }, 'p.toml')).toThrow(
      /retention.*daily_dayz|Unrecognized/,
    );
    expect(() =>
      resolvePolicy({ datasets: { extra: { paths: ['x/'], archive: 'nope', frequency: 'P1D' } } }, 'p.toml'),
    ).toThrow(/datasets\.extra\.archive: names archive "nope"/);
    expect(() => resolvePolicy({ datasets: { logs: { paths: ['../etc/'] } } }, 'p.toml')).toThrow(/"\.\."/);
  });

  it('reports invalid TOML with its line', async () => {
    const root = await rootWith('[retention\ndaily_days = 3\n');
    await expect(loadPolicy({ root })).rejects.toThrow(/not valid TOML \(line 1, column \d+\): [^\n]+$/);
  });

  it('fails clearly when --policy names a missing file', async () => {
    await expect(loadPolicy({ root: await rootWith(), file: '/nonexistent/p.toml' })).rejects.toThrow(
      /cannot read policy file \/nonexistent\/p\.toml: ENOENT/,
    );
  });
});

describe('parseDuration', () => {
  it('parses the durations the policy uses', () => {
    expect(parseDuration('PT30S')).toBe(30_000);
    expect(parseDuration('PT6H')).toBe(6 * 3600_000);
    expect(parseDuration('P7D')).toBe(7 * 86400_000);
    expect(parseDuration('P1DT1H')).toBe(25 * 3600_000);
    expect(parseDuration('PT0.5S')).toBe(500);
  });
  it('rejects what is not a duration', () => {
    for (const bad of ['', 'P', 'PT', '6H', 'P1H', 'PT-1S']) expect(() => parseDuration(bad)).toThrow(RangeError);
  });
});
