import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir, treeContents } from '../testing.ts';
import { generateCorpus } from './generate-corpus.ts';
import type { Measurement } from './measure-command.ts';
import { formatTable, median, parseSize, summarize } from './summarize.ts';

const m = (wallMs: number, extra: Partial<Measurement> = {}): Measurement => ({
  wallMs,
  cpuMs: wallMs / 2,
  maxRssBytes: 100 * 1024 * 1024,
  rssSource: 'time',
  code: 0,
  stderr: '',
  ...extra,
});

describe('bench summary', () => {
  it('medians, ratios to the phase baseline, failures kept out of the median', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    const rows = summarize([
      { phase: 'backup', tool: 'runbook', baseline: true, runs: [m(10_000), m(12_000), m(11_000)], outputBytes: 1 },
      {
        phase: 'backup',
        tool: 'ours',
        baseline: false,
        runs: [m(2000), m(3000), m(99_000, { code: 1 })],
        outputBytes: 1,
      },
    ]);
    expect(rows[1]).toMatchObject({
      medianWallMs: 2500,
      ratio: 2500 / 11_000,
      failed: 1,
      maxRssBytes: 100 * 1024 * 1024,
    });
    // Paired with the baseline's run of the same round: 2000/10000 and 3000/12000 (the failed run has no pair).
    expect(rows[1]!.runRatios).toEqual({ min: 0.2, median: 0.225, max: 0.25 });
    expect(rows[0]!.runRatios).toBeNull();
    const table = formatTable(rows);
    expect(table).toContain('| backup | ours (1 failed) | 2.50 s      | 0.23×      | 0.20–0.23–0.25×');
  });

  it('reads sizes as an operator writes them', () => {
    expect(parseSize('1GiB')).toBe(1024 ** 3);
    expect(parseSize('300M')).toBe(300 * 1024 ** 2);
    expect(parseSize('1.5 g')).toBe(1.5 * 1024 ** 3);
    expect(parseSize('lots')).toBeNull();
  });
});

describe('generateCorpus', () => {
  it('is reproducible from its seed and shaped like an Arkalia host', async () => {
    const size = 4 * 1024 * 1024;
    const a = await generateCorpus({ dir: await tempDir('ark-corpus-'), size, seed: 7 });
    const b = await generateCorpus({ dir: await tempDir('ark-corpus-'), size, seed: 7 });
    const c = await generateCorpus({ dir: await tempDir('ark-corpus-'), size, seed: 8 });
    const [ta, tb, tc] = await Promise.all([a, b, c].map((x) => treeContents(join(x.root, '..'))));
    expect([...ta.keys()].sort()).toEqual([...tb.keys()].sort());
    for (const [path, content] of ta) expect(content.equals(tb.get(path)!), path).toBe(true);
    expect([...ta].some(([path, content]) => !tc.get(path)?.equals(content))).toBe(true);
    expect(Math.abs(a.bytes - size) / size).toBeLessThan(0.1);
    const states = [...ta.keys()].filter((p) => /^arkalia\/(modules\/[^/]+\/state|state)\//.test(p));
    expect(states.length).toBeGreaterThan(100);
    expect([...ta.keys()].some((p) => p.startsWith('ollama/models/blobs/sha256-'))).toBe(true);
    expect(await readFile(join(a.root, 'modules', 'zeroia', 'state', 'zeroia_state.toml'), 'utf8')).toMatch(
      /^# zeroia state\n\[decision\]/,
    );
  });
});
