import type { FileResult, MutantStatus } from 'mutation-testing-report-schema';
import { describe, expect, it } from 'vitest';
import { folderScores, foldersBelow } from './index.ts';

/** A file of a Stryker JSON report with one mutant per status given. */
function file(...statuses: MutantStatus[]): FileResult {
  return {
    language: 'typescript',
    source: 'export const a = 1;\n',
    mutants: statuses.map((status, i) => ({
      id: String(i),
      mutatorName: 'ConditionalExpression',
      replacement: 'false',
      location: { start: { line: 1, column: 1 }, end: { line: 1, column: 2 } },
      status,
    })),
  };
}

describe('folderScores', () => {
  it('scores each folder as Stryker does: killed and timed out over every valid mutant, ignored and errors left out', () => {
    const scores = folderScores({
      files: {
        'lib/b/x.ts': file('Killed', 'Killed', 'Timeout', 'Survived'),
        'lib/b/y.ts': file('NoCoverage', 'Ignored', 'CompileError', 'RuntimeError'),
        'lib/a/z.ts': file('Killed'),
      },
    });
    expect(scores.map((s) => s.folder)).toEqual(['lib/a', 'lib/b']);
    const b = scores[1]!;
    expect(b).toMatchObject({ detected: 3, survived: 1, noCoverage: 1, ignored: 1 });
    expect(b.score).toBeCloseTo(60);
    expect(b.files).toEqual([
      { file: 'lib/b/x.ts', score: 75, detected: 3, undetected: 1 },
      { file: 'lib/b/y.ts', score: 0, detected: 0, undetected: 1 },
    ]);
    expect(scores[0]!.score).toBe(100);
  });

  it('names the folders under the minimum, and one where nothing ran', () => {
    const scores = folderScores({
      files: { 'a/x.ts': file('Killed', 'Survived'), 'b/x.ts': file('Killed'), 'c/x.ts': file('Ignored') },
    });
    expect(foldersBelow(scores, 85).map((s) => s.folder)).toEqual(['a', 'c']);
    expect(foldersBelow(scores, 50).map((s) => s.folder)).toEqual(['c']);
  });
});
