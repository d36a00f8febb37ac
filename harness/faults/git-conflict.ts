import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../lib/state/index.ts';
import { writeDamage } from './write-damage.ts';
import { SAMPLE_ROOT } from '../../sample/index.ts';
import { inPath } from '../scenario/fields.ts';
import { defineFault, type FaultContext, type InjectedFault } from './fault.ts';
import { expandIn, faultPath } from './fault-path.ts';

/** The merge-conflict damage of a real Arkalia file (the sample root's two) reproduced on another file. */
const schema = z.strictObject({
  kind: z.literal('git-conflict'),
  path: inPath,
  like: z.enum(['state/reflexia_state.toml', 'state/global_context.toml']).default('state/reflexia_state.toml'),
});

export const gitConflictFault = defineFault({
  kind: 'git-conflict',
  schema,
  needsStack: false,
  inject: injectGitConflict,
});

type GitConflict = z.infer<typeof schema>;

/** One conflict hunk of a real file: the table it sits in, both sides, its marker lines. */
export interface Hunk {
  table: string | null;
  ours: string[];
  theirs: string[];
  open: string;
  close: string;
}

const KEY_LINE = /^\s*([A-Za-z0-9_.-]+|"[^"]*")\s*=\s*(.*)$/;
const TABLE = /^\s*\[+\s*([^\]]+?)\s*\]+\s*$/;

/** Pure: the conflict hunks of a file committed with unresolved merge markers. */
export function parseHunks(text: string): Hunk[] {
  const hunks: Hunk[] = [];
  let table: string | null = null;
  let current: Hunk | null = null;
  let side: 'ours' | 'theirs' = 'ours';
  for (const line of text.split('\n')) {
    if (line.startsWith('<<<<<<< ')) {
      current = { table, ours: [], theirs: [], open: line, close: '' };
      side = 'ours';
    } else if (current && line === '=======') side = 'theirs';
    else if (current && line.startsWith('>>>>>>> ')) {
      current.close = line;
      hunks.push(current);
      current = null;
    } else if (current) current[side].push(line);
    else if (TABLE.test(line)) table = TABLE.exec(line)![1]!;
  }
  return hunks;
}

/**
 * Pure: `target` damaged the way `source` was in the wild. Each hunk of the source lands on
 * as many consecutive key lines of the target (in the table of the same name when the target
 * has one, else the first table not yet hit), "ours" keeping the target's lines and "theirs"
 * giving those keys the other branch's values from the source: exactly the real-world shape.
 */
export function replayConflict(source: string, target: string): string {
  const hunks = parseHunks(source);
  if (hunks.length === 0) throw new Error('the source file has no merge-conflict hunk');
  const lines = target.split('\n');
  const tableOf: (string | null)[] = [];
  let table: string | null = null;
  for (const line of lines) {
    if (TABLE.test(line)) table = TABLE.exec(line)![1]!;
    tableOf.push(table);
  }
  const tables = [...new Set(tableOf)];
  const used = new Set<number>();
  const blocks: { start: number; end: number; hunk: Hunk }[] = [];
  for (const hunk of hunks) {
    const wanted = tables.includes(hunk.table) ? [hunk.table, ...tables] : tables;
    for (const t of wanted) {
      const start = lines.findIndex((l, i) => tableOf[i] === t && !used.has(i) && KEY_LINE.test(l) && !TABLE.test(l));
      if (start === -1) continue;
      let end = start;
      while (
        end + 1 < lines.length &&
        end - start + 1 < hunk.ours.length &&
        tableOf[end + 1] === t &&
        KEY_LINE.test(lines[end + 1]!) &&
        !used.has(end + 1)
      )
        end += 1;
      for (let i = start; i <= end; i += 1) used.add(i);
      blocks.push({ start, end, hunk });
      break;
    }
  }
  if (blocks.length === 0)
    return `${hunks[0]!.open}\n${target}${target.endsWith('\n') ? '' : '\n'}=======\n${hunks[0]!.theirs.join('\n')}\n${hunks[0]!.close}\n`;
  const out: string[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const block = blocks.find((b) => b.start === i);
    if (!block) {
      out.push(lines[i]!);
      continue;
    }
    const ours = lines.slice(block.start, block.end + 1);
    const theirs = ours.map((line, j) => {
      const key = KEY_LINE.exec(line)![1];
      const value = KEY_LINE.exec(block.hunk.theirs[j] ?? '')?.[2] ?? '"dev-migration"';
      return `${key} = ${value}`;
    });
    out.push(block.hunk.open, ...ours, '=======', ...theirs, block.hunk.close);
    i = block.end;
  }
  return out.join('\n');
}

/**
 * The merge-conflict damage Arkalia really shipped (state/reflexia_state.toml or
 * state/global_context.toml, as the sample root keeps it) reproduced on another file. Revert puts the
 * original back only while the damage is still there.
 */
export async function injectGitConflict(fault: GitConflict, ctx: FaultContext): Promise<InjectedFault> {
  const rel = expandIn(ctx, fault.path);
  const path = faultPath(ctx, 'root', fault.path);
  const source = await readFile(join(ctx.root, fault.like), 'utf8').catch(() =>
    readFile(join(SAMPLE_ROOT, fault.like), 'utf8'),
  );
  const original = await readFile(path);
  const damaged = Buffer.from(replayConflict(source, original.toString('utf8')));
  await writeDamage(path, damaged, { serviceRunning: ctx.stack !== null });
  return {
    kind: fault.kind,
    description: `${rel}: merge-conflict markers as in ${fault.like} (${parseHunks(source).length} hunk(s))`,
    path: rel,
    damaged,
    async revert() {
      const now = await readFile(path).catch(() => null);
      if (now !== null && now.equals(damaged)) await writeFileAtomic(path, original);
    },
  };
}
