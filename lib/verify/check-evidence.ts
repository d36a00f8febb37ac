import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyDetached } from '../crypto/index.ts';
import { DRILL_COMMAND, EVIDENCE_MAX_DAYS, nowOf, type ChecklistOptions, type Outcome } from './check-result.ts';

/** Monthly: the newest reports/evidence/<run-id>/evidence.json is present, its signature verifies, and it is younger than 31 days. */
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
  const json = await readFile(join(newest.dir, 'evidence.json'));
  const [signature, publicKey] = await Promise.all([
    readFile(join(newest.dir, 'evidence.json.asc'), 'utf8'),
    readFile(join(newest.dir, 'signer.pub.asc'), 'utf8'),
  ]).catch((error: NodeJS.ErrnoException) => {
    throw new Error(`${newest.dir}: signature or signer key cannot be read (${error.code ?? error}); ${hint}`);
  });
  const verified = await verifyDetached(json, signature, publicKey);
  if (!verified.ok)
    return {
      status: 'failed',
      detail: `${join(newest.dir, 'evidence.json')}: signature does NOT verify (${verified.reason}): the evidence was changed after signing; ${hint}`,
      data: { dir: newest.dir },
    };
  let generated = newest.mtime;
  try {
    const at = Date.parse((JSON.parse(json.toString('utf8')) as { generated_at?: string }).generated_at ?? '');
    if (Number.isFinite(at)) generated = at;
  } catch {
    // signed but not JSON: keep the file time
  }
  const age = Math.floor((nowOf(options).getTime() - generated) / 86_400_000);
  const data = { dir: newest.dir, signer: verified.fingerprint, age_days: age };
  if (age >= EVIDENCE_MAX_DAYS)
    return {
      status: 'failed',
      detail: `newest evidence ${newest.dir} is ${age} days old (signature valid; must be younger than ${EVIDENCE_MAX_DAYS}): ${hint}`,
      data,
    };
  return {
    status: 'ok',
    detail: `${newest.dir}: signature valid (${verified.fingerprint}), ${age} day(s) old; full drill: ${DRILL_COMMAND}`,
    data,
  };
}
