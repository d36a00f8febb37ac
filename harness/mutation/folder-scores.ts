import { dirname } from 'node:path';
import { calculateMetrics } from 'mutation-testing-metrics';
import type { FileResult, MutationTestResult } from 'mutation-testing-report-schema';

export interface FolderScore {
  folder: string;
  /** Killed or timed out: a test noticed the change. */
  detected: number;
  survived: number;
  noCoverage: number;
  /** Equivalent-by-construction mutants Stryker did not run (ignoreStatic, `Stryker disable`). */
  ignored: number;
  /** detected / (detected + survived + noCoverage) × 100, as Stryker's own report computes it; NaN when none ran. */
  score: number;
  files: { file: string; score: number; detected: number; undetected: number }[];
}

/**
 * Pure: the mutation score of each folder of a Stryker JSON report (mutation-testing-report-schema),
 * through mutation-testing-metrics, the library Stryker's reports use, so the figures are the ones
 * its HTML report shows. Folders sorted by name, files within them too.
 */
export function folderScores(report: Pick<MutationTestResult, 'files'>): FolderScore[] {
  const byFolder = new Map<string, Record<string, FileResult>>();
  for (const [file, result] of Object.entries(report.files)) {
    const folder = dirname(file);
    byFolder.set(folder, { ...byFolder.get(folder), [file]: result });
  }
  return [...byFolder.keys()].sort().map((folder) => {
    const files = byFolder.get(folder)!;
    const { metrics } = calculateMetrics(files);
    return {
      folder,
      detected: metrics.totalDetected,
      survived: metrics.survived,
      noCoverage: metrics.noCoverage,
      ignored: metrics.ignored,
      score: metrics.mutationScore,
      files: Object.keys(files)
        .sort()
        .map((file) => {
          const m = calculateMetrics({ [file]: files[file]! }).metrics;
          return { file, score: m.mutationScore, detected: m.totalDetected, undetected: m.totalUndetected };
        }),
    };
  });
}

/** The folders under `minimum` percent (a folder where no mutant ran counts as failing: nothing was measured). */
export function foldersBelow(scores: readonly FolderScore[], minimum: number): FolderScore[] {
  return scores.filter((s) => !(s.score >= minimum));
}
