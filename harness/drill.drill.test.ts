import { randomBytes } from 'node:crypto';
import { appendFile, cp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, tempDir } from '../lib/testing.ts';
import { SAMPLE_ROOT } from '../sample/index.ts';
import { expectNoStackTrace, runScript } from '../scripts/testing.ts';
import { fingerprintTree } from './drill-root/testing.ts';
import { journalSchema } from './journal.ts';

/** Every file under `dir`, recursively (the reports a drill run wrote). */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

describe("npm run drill -- --root-from DIR: a drill of the operator's own data", () => {
  it('works on a fresh copy of that tree, leaves the source exactly as it was, and keeps its .env out of every report', {
    timeout: 300_000,
  }, async () => {
    // The operator's tree: the sample plus data of their own and a secret only they have.
    const source = join(await tempDir('ark-operator-'), 'arkalia-prod');
    await cp(SAMPLE_ROOT, source, { recursive: true, preserveTimestamps: true });
    const marker = `marker_${randomBytes(4).toString('hex')}`;
    await writeFile(join(source, 'modules/zeroia/state', `${marker}.toml`), `owner = "${marker}"\n`);
    const secret = `s3cr3t-${randomBytes(12).toString('hex')}`;
    await appendFile(join(source, '.env'), `ARKALIA_DB_PASSWORD=${secret}\n`);
    const before = await fingerprintTree(source);
    const reports = join(await tempDir('ark-reports-'), 'reports');

    const run = await runScript(
      join(REPO_ROOT, 'harness', 'drill.ts'),
      ['--root-from', source, '--reports', reports, 'corrupt-zeroia-state'],
      { ARK_EVIDENCE_KEY: '' },
      { timeoutMs: 280_000 },
    );
    expect(run.code, run.stderr).toBe(0);
    expectNoStackTrace(run);
    expect(run.stderr).toContain(`▶ each on a fresh copy of ${source} (`);
    expect(run.stderr).toMatch(/✓ 1 of 1 drill\(s\) passed/);

    // The source was only read.
    expect(await fingerprintTree(source)).toBe(before);
    expect((await stat(join(source, '.env'))).mode & 0o777).toBe(0o644);

    // The copy was used: the restore put back the operator's own file, and the journal and the evidence say whose data it was.
    const journal = journalSchema.parse(
      JSON.parse(await readFile(join(reports, 'journals', 'corrupt-zeroia-state.json'), 'utf8')),
    );
    expect(journal).toMatchObject({ status: 'completed', root_from: source });
    expect(journal.phases[0]).toMatchObject({
      name: 'root',
      ok: true,
      output: expect.stringContaining(`root: a copy of ${source}`),
    });
    const changes = (journal.recovery?.result?.changes ?? []) as { path: string }[];
    expect(changes.map((c) => c.path)).toContain(`modules/zeroia/state/${marker}.toml`);
    const [runId] = await readdir(join(reports, 'evidence'));
    const evidence = JSON.parse(await readFile(join(reports, 'evidence', runId!, 'evidence.json'), 'utf8'));
    expect(evidence.summary).toMatchObject({ selected: 1, completed: 1, passed: true });
    expect(evidence.scenarios[0].root_from).toBe(source);

    // Secrets never reach the reports: not the journal, the Allure results, the HTML report nor the evidence.
    const written = await filesUnder(reports);
    expect(written.length).toBeGreaterThan(5);
    for (const file of written) expect((await readFile(file)).includes(secret), file).toBe(false);
    expect(run.stdout + run.stderr).not.toContain(secret);
  });
});
