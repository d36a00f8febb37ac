import type { Evidence } from './build-evidence.ts';

const ms = (v: number | null) => (v === null ? '—' : v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${v} ms`);
const met = (v: boolean | null) => (v === null ? 'not measured' : v ? 'met' : '**missed**');

/** "all 19 drills passed", or how many of those selected did not pass and which did not run to the end. */
function result(e: Evidence): string {
  const { selected, completed, not_run: notRun, passed } = e.summary;
  if (passed) return selected === 1 ? 'the drill passed' : `all ${selected} drills passed`;
  const unfinished = notRun.length > 0 ? ` (${notRun.length} did not run to the end: ${notRun.join(', ')})` : '';
  return `**${selected - completed} of ${selected} drills did not pass**${unfinished}`;
}

/** The same evidence for a human auditor (Markdown). */
export function renderEvidenceMarkdown(e: Evidence): string {
  const lines = [
    `# Recovery drill evidence — ${e.run_id}`,
    '',
    `- **Result:** ${result(e)}`,
    `- **Data:** ${[...new Set(e.scenarios.map((s) => s.root_from))].map((r) => `a fresh copy of \`${r}\``).join(', ')} for each drill`,
    `- **When:** ${e.generated_at}`,
    `- **Who:** ${e.operator}${e.ci ? ` (CI: ${e.ci})` : ''}`,
    `- **What:** ${e.tool.name} ${e.tool.version}, git commit \`${e.git.commit}\`${e.git.dirty ? ' (with uncommitted changes)' : ''}, Node ${e.tool.node}`,
    `- **Where:** host \`${e.host}\``,
    '',
    '## Scenarios',
    '',
    '| scenario | result | RTO (objective) | RPO (objective) | recovery |',
    '|---|---|---|---|---|',
    ...e.scenarios.map(
      (s) =>
        `| ${s.id} | ${s.status} | ${ms(s.rto_ms)} (${s.objectives.rto}, ${met(s.rto_met)}) | ${ms(s.rpo_ms)} (${s.objectives.rpo}, ${met(s.rpo_met)}) | ${s.recovery ? `${s.recovery.script} → exit ${s.recovery.exit_code}` : '—'} |`,
    ),
    '',
    '## Backups used',
    '',
    ...e.scenarios.flatMap((s) =>
      s.backups.flatMap((b) => b.checksums.map((c) => `- ${s.id}: \`${b.dir}/${c.file}\` sha256 \`${c.sha256}\``)),
    ),
    '',
    '## Controls and checklist items',
    '',
    '| control | what it asks | evidenced by this run |',
    '|---|---|---|',
    ...e.controls.map((c) => `| ${c.id} — ${c.title} | ${c.claim} | ${c.evidenced ? 'yes' : '**no**'} |`),
    '',
    '## How to check this document',
    '',
    '`evidence.json` is signed (`evidence.json.asc`, detached OpenPGP) with the key in `signer.pub.asc`:',
    '',
    '```sh',
    'gpg --import signer.pub.asc && gpg --verify evidence.json.asc evidence.json',
    'npx tsx scripts/verify-evidence.mts reports/evidence/<run-id>',
    '```',
    '',
  ];
  return lines.join('\n');
}
