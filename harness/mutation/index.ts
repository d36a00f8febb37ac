// mutation: reading a Stryker run's JSON report (npm run mutation): the score per folder and
// the folders under the project's minimum. Pure; harness/mutation-scores.ts prints it.
export { folderScores, foldersBelow, type FolderScore } from './folder-scores.ts';
