import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, tempDir } from '../../lib/testing.ts';
import type { Journal } from '../journal.ts';
import { buildEvidence } from './build-evidence.ts';
import { renderEvidenceMarkdown } from './render-evidence.ts';
import { verifyDetached } from '../../lib/crypto/index.ts';
import { writeEvidence } from './write-evidence.ts';
import { envelopeOf } from '../../scripts/testing.ts';

const run = promisify(execFile);

const journal = (status: Journal['status']): Journal => ({
  format: 'arkalia-dr-journal/1',
  scenario: `s-${status}`,
  title: 'T',
  file: '/x',
  run_id: 'r1',
  tags: ['weekly'],
  root_from: 'sample/arkalia-luna-pro',
  status,
  started_at: '2026-11-26T04:00:00.000Z',
  ended_at: '2026-11-26T04:00:20.000Z',
  duration_ms: 20000,
  phases: [],
  objectives: { rto: 'PT2M', rpo: 'PT1H' },
  measurements: {
    rto_from: 'fault-injection',
    rto_ms: 12000,
    rpo_ms: 900,
    rpo_basis: 'heartbeat',
    rto_met: true,
    rpo_met: true,
    data_loss: [],
    recovery_point: null,
  },
  recovery: { script: 'emergency-restore', argv: [], exit_code: 0, duration_ms: 4000, result: null },
  backups: [{ dir: '/tmp/b/daily/arkalia_20261126', checksums: `${'a'.repeat(64)}  arkalia_states_20261126.tar.gz\n` }],
  error: null,
});

describe('audit evidence', () => {
  it('has a pinned shape and claims controls only when every drill passed', () => {
    const ctx = {
      runId: 'run-1',
      generatedAt: new Date('2026-11-26T05:00:00Z'),
      operator: 'ops',
      ci: null,
      gitCommit: 'c0ffee',
      gitDirty: false,
      host: 'h',
      tool: { name: 'arkalia-dr', version: '0.1.0', node: 'v20' },
    };
    const good = buildEvidence([journal('completed')], ctx);
    expect(good).toMatchSnapshot();
    expect(good.controls.every((c) => c.evidenced)).toBe(true);
    const bad = buildEvidence([journal('completed'), journal('deviated')], ctx);
    expect(bad.summary).toMatchObject({ scenarios: 2, completed: 1, deviated: 1, passed: false });
    expect(bad.controls.some((c) => c.evidenced)).toBe(false);
    // Nothing ran: nothing to give evidence of (drill.ts signs nothing then).
    expect(() => buildEvidence([], ctx)).toThrow(/no drill ran to the end/);
    // Selected but never finished: not passed, named, and never "0 of 0".
    const partial = buildEvidence([journal('completed')], { ...ctx, selected: ['s-completed', 'lose-disk'] });
    expect(partial.summary).toMatchObject({
      selected: 2,
      scenarios: 1,
      completed: 1,
      not_run: ['lose-disk'],
      passed: false,
    });
    expect(partial.controls.some((c) => c.evidenced)).toBe(false);
    expect(renderEvidenceMarkdown(partial)).toContain(
      '**1 of 2 drills did not pass** (1 did not run to the end: lose-disk)',
    );
    expect(renderEvidenceMarkdown(good)).toContain('- **Result:** the drill passed');
    expect(renderEvidenceMarkdown(good)).toContain(
      '- **Data:** a fresh copy of `sample/arkalia-luna-pro` for each drill',
    );
    expect(renderEvidenceMarkdown(bad)).toContain('**1 of 2 drills did not pass**');
  });

  it('is signed so that gpg --verify accepts it and any change to evidence.json breaks it', async () => {
    const reportsDir = await tempDir('ark-evidence-');
    const env = { ...process.env, ARK_EVIDENCE_KEY: '', ARK_OPERATOR: 'auditor-test' };
    const written = await writeEvidence({
      reportsDir,
      repoRoot: REPO_ROOT,
      runId: 'run-2',
      journals: [journal('completed')],
      env,
    });
    expect(written.oneOffKey).toBe(true);
    const dir = written.dir;
    const md = await readFile(join(dir, 'evidence.md'), 'utf8');
    expect(md).toContain('auditor-test');
    expect(md).toContain('ISO/IEC 27001:2022 A.8.13');
    // Each drilled scenario's RTO/RPO chart beside it, shown in evidence.md.
    const scenario = journal('completed').scenario;
    expect(md).toContain(`![${scenario}: RTO and RPO per run](charts/${scenario}.svg)`);
    expect(await readFile(join(dir, 'charts', `${scenario}.svg`), 'utf8')).toMatch(
      /^<svg [\s\S]*data-series="rto"[\s\S]*<\/svg>\n$/,
    );
    const [json, sig, pub] = await Promise.all([
      readFile(join(dir, 'evidence.json')),
      readFile(join(dir, 'evidence.json.asc'), 'utf8'),
      readFile(join(dir, 'signer.pub.asc'), 'utf8'),
    ]);
    expect(await verifyDetached(json, sig, pub)).toMatchObject({ ok: true, fingerprint: written.fingerprint });

    const gnupgHome = await tempDir('ark-gnupg-');
    const gpg = (args: string[]) => run('gpg', ['--homedir', gnupgHome, '--batch', ...args]);
    await gpg(['--import', join(dir, 'signer.pub.asc')]);
    const verified = await gpg(['--verify', join(dir, 'evidence.json.asc'), join(dir, 'evidence.json')]);
    expect(verified.stderr).toMatch(/Good signature/);

    const tampered = Buffer.from(json.toString().replace('"completed": 1', '"completed": 2'));
    expect(tampered.equals(json)).toBe(false);
    expect((await verifyDetached(tampered, sig, pub)).ok).toBe(false);
    const script = (args: string[]) =>
      run(process.execPath, ['--import', 'tsx', 'scripts/verify-evidence.mts', ...args], { cwd: REPO_ROOT }).then(
        (r) => ({ code: 0, stderr: r.stderr }),
        (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
      );
    expect(await script([dir, '--fingerprint', written.fingerprint])).toMatchObject({
      code: 0,
      stderr: expect.stringMatching(/signature valid/),
    });
    // --json: the one envelope every command prints (scripts/cli/json-envelope.ts).
    const asJson = await run(
      process.execPath,
      ['--import', 'tsx', 'scripts/verify-evidence.mts', dir, '--fingerprint', written.fingerprint, '--json'],
      { cwd: REPO_ROOT },
    );
    expect(envelopeOf({ code: 0, stdout: asJson.stdout }, 'verify-evidence')).toMatchObject({
      ok: true,
      policy: null,
      error: null,
      result: { dir, valid: true, signer: written.fingerprint, expected_signer: written.fingerprint },
    });
    expect(await script([dir, '--fingerprint', 'AAAA'])).toMatchObject({
      code: 3,
      stderr: expect.stringMatching(/not the expected AAAA/),
    });

    await writeFile(join(dir, 'evidence.json'), tampered);
    await expect(gpg(['--verify', join(dir, 'evidence.json.asc'), join(dir, 'evidence.json')])).rejects.toMatchObject({
      stderr: expect.stringMatching(/BAD signature/),
    });
    expect(await script([dir])).toMatchObject({ code: 3, stderr: expect.stringMatching(/signature INVALID/) });
    expect(await script([join(dir, 'nope')])).toMatchObject({ code: 1 });
    expect((await script([])).code).toBe(2);
  });
});
